"""What preparing a dataset and scoring one run cost, for benchmarks/speed.py's "Evaluation" section.

Preparing Fashion-MNIST: its reference classifier (genbench's pinned one, copied into the cache, or
trained where the data differs) and its real-data floor; then one run's evaluation: 10,000 samples of an
untrained acgan (conditional, so ``acc_clf`` is computed too) scored with every default offline metric,
95% intervals included, the reference's statistics cached by the floor as a run finds them; and
Inception FID on a weights file of the right format with random values (the same network and cost).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any
from unittest import mock

import torch
from training_loops import build, clock

from genbench.api import Split
from genbench.core.metrics import METRICS
from genbench.core.progress import SilentProgress
from genbench.core.registry import Registry
from genbench.core.run_spec import DivergenceSettings
from genbench.evaluation.classifier import cached_classifier
from genbench.evaluation.evaluate import evaluate, generate
from genbench.evaluation.floor import floor_record
from genbench.evaluation.inception import InceptionWeights, resolve_inception_weights
from genbench.evaluation.setup import EvaluationSetup, reference_images

DATASET = "fashion-mnist"
# Every metric a run computes by default but those of the Inception network (no weights here).
OFFLINE_METRICS = tuple(m.name for m in METRICS if m.default and m.extractor != "inception")


def timed(what: Callable[[], Any], device: torch.device) -> tuple[Any, float, float]:
    """``what()``, its :func:`clock` seconds and its wall-clock seconds."""
    started, wall = clock(device), time.perf_counter()
    value = what()
    return value, clock(device) - started, time.perf_counter() - wall


def random_inception_weights(folder: Path) -> Path:
    """torch-fidelity's InceptionV3 state dict with random He-normal weights, saved like the real file
    (as tests/evaluation/test_inception.py makes it): the same network and cost, meaningless values."""
    import torch_fidelity.feature_extractor_inceptionv3 as tf_inception

    with (
        mock.patch.object(tf_inception, "load_state_dict_from_url", lambda *args, **kwargs: {}),
        mock.patch.object(tf_inception.FeatureExtractorInceptionV3, "load_state_dict", lambda *a, **k: None),
    ):
        network = tf_inception.FeatureExtractorInceptionV3("inception-v3-compat", ["2048"])
    generator = torch.Generator().manual_seed(0)
    state = network.state_dict()
    for name, value in state.items():
        if name.endswith("weight") and value.ndim > 1:
            state[name] = torch.randn(value.shape, generator=generator) * (2 / value[0].numel()) ** 0.5
    path = folder / "pt_inception-2015-12-05-6726825d.pth"
    torch.save(state, path)
    return path


def evaluation_section(
    args: argparse.Namespace, device: torch.device, shape: Any, train_split: Split, test_split: Split
) -> list[str]:
    """Seconds to prepare the dataset (its pinned or trained classifier, the real-data floor), and to
    generate and score 10,000 samples of an untrained acgan with every default offline metric, 95%
    intervals included, as a run scores them."""
    cache = args.cache or Path(tempfile.mkdtemp(prefix="genbench-speed-"))
    lines = ["", "## Evaluation", ""]
    how = "loaded from the cache (--cache)" if any((cache / "classifiers").glob("*.pt")) else "prepared"
    classifier, seconds, wall = timed(
        lambda: cached_classifier(
            DATASET, shape, train_split, test_split, cache / "classifiers", device, progress=SilentProgress()
        ),
        device,
    )
    origin = "genbench's pinned one, copied" if classifier.pinned else "trained here"
    lines.append(
        f"- reference classifier {how} ({origin}) in {seconds:.1f} s ({wall:.1f} s wall; test accuracy "
        f"{classifier.test_accuracy:.3f})"
    )
    print(lines[-1], flush=True)
    setup = EvaluationSetup(
        dataset=DATASET,
        reference_split="test",
        reference=reference_images(test_split, None),
        classifier=classifier,
        inception=InceptionWeights(None, reason="offline metrics only"),
        metrics=OFFLINE_METRICS,
        divergence=DivergenceSettings(),
        device=device,
        cache_root=cache / "fidelity",
        train_images=train_split.images,
        test_images=test_split.images,
    )
    floors_before = set((cache / "floors").glob("*.json"))  # A new file: computed, not read back.
    _, seconds, wall = timed(lambda: floor_record(setup, train_split, "train", args.n_samples, cache), device)
    floor_how = (
        "computed" if set((cache / "floors").glob("*.json")) - floors_before else "read from the cache"
    )
    lines.append(
        f"- real-data floor ({args.n_samples} train images vs the test split, every default offline "
        f"metric but acc_clf, intervals included) {floor_how} in {seconds:.1f} s ({wall:.1f} s wall)"
    )
    print(lines[-1], flush=True)
    lines += scoring_lines(args, device, shape, setup, test_split, cache)
    return lines


def scoring_lines(
    args: argparse.Namespace,
    device: torch.device,
    shape: Any,
    setup: EvaluationSetup,
    test_split: Split,
    cache: Path,
) -> list[str]:
    """One run's evaluation of 10k acgan samples (after the floor: the reference's statistics cached,
    as a run finds them), and Inception FID where ``--inception-n`` is not 0."""
    model = build(Registry.discover().model("acgan").cls, shape, device)  # Conditional: acc_clf too.
    samples, sample_seconds, _ = timed(lambda: generate(model, args.n_samples, seed=0, device=device), device)
    labels = torch.arange(args.n_samples) % shape.num_classes
    evaluation, seconds, wall = timed(lambda: evaluate(samples, setup, labels), device)
    lines = [
        f"- {args.n_samples} acgan samples generated in {sample_seconds:.2f} s and scored with every "
        f"default offline metric, intervals included, in {seconds:.1f} s ({wall:.1f} s wall; the "
        "reference's statistics cached by the floor): "
        + ", ".join(f"{k} {v:.1f} s" for k, v in evaluation.seconds.items())
        + " (wall-clock)"
    ]
    print(lines[-1], flush=True)
    n = min(args.inception_n, args.n_samples)
    if n == 0:
        return lines
    weights = resolve_inception_weights(random_inception_weights(cache), download=False)
    inception_setup = replace(
        setup, metrics=("fid",), inception=weights, reference=reference_images(test_split, n)
    )
    _, first_seconds, _ = timed(lambda: evaluate(samples[:n], inception_setup), device)
    _, seconds, _ = timed(lambda: evaluate(samples[:n], inception_setup), device)
    lines.append(
        f"- Inception FID of {n} samples against {n} test images (random weights of the real format): "
        f"{first_seconds:.1f} s with the reference features extracted, {seconds:.1f} s with them cached"
    )
    print(lines[-1], flush=True)
    return lines
