"""``genbench score``: a sample set made anywhere, scored under genbench's protocol.

The dataset is prepared exactly as ``genbench run`` prepares it (genbench.running.preparation: the
same reference images, reference classifier, Inception weights, metrics, divergence and interval
recipes, and real-data floor), and the samples go through the same evaluation as a run's
(genbench.evaluation.evaluate). The result is a record in ``<out>/scores/`` that the leaderboard and
the report show as a row of model ``external:<label>``, without seed or training; its ``external``
field holds the file's path and SHA-256 and the number of samples scored. Its name is the dataset,
the label and a hash of the file's SHA-256 with everything that affects the numbers: scoring the same
file under the same options again reuses it.
"""

from __future__ import annotations

import dataclasses
import platform
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from genbench.core.files import atomic_write_json, shown
from genbench.core.hashing import stable_hash
from genbench.core.layout import SCORES_DIR
from genbench.core.metrics import metric
from genbench.core.progress import ProgressSink, SilentProgress
from genbench.core.record import EXTERNAL_PREFIX, RunRecord
from genbench.core.registry import Registry
from genbench.errors import UserError
from genbench.evaluation.evaluate import evaluate
from genbench.evaluation.sample_sets import SampleSet, is_npz, read_sample_set
from genbench.options.config import MIN_N_SAMPLES, RunOptions
from genbench.results.leaderboard import rebuild_leaderboard
from genbench.running.device import device_name
from genbench.running.jobs import LoadedData
from genbench.running.preparation import DatasetPreparation
from genbench.running.score_records import earlier_record, protocol_identity

SCORE_VERSION = 1  # Bump when scoring changes what a record means: earlier records are not reused.
LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")


@dataclass(frozen=True)
class Scored:
    """A scored sample set's record, where it is, and whether an earlier one was reused."""

    record: RunRecord
    path: Path
    reused: bool


def score_samples(
    samples: Path,
    options: RunOptions,
    registry: Registry,
    device: torch.device,
    *,
    label: str | None = None,
    n_samples: int | None = None,
    progress: ProgressSink | None = None,
    announce: Callable[[str], None] = lambda message: None,
) -> Scored:
    """Score the sample set at ``samples`` against ``options``'s one dataset under its evaluation
    options (``options.n_samples`` is ignored: ``n_samples``, default all of the set, is what is
    scored, and names the columns). Bad input is a :class:`UserError` before any data is loaded."""
    (name,) = options.datasets
    entry = registry.dataset(name)
    label = checked_label(label, samples)
    sample_set = read_sample_set(samples, entry.cls.shape, name)
    n = _count(sample_set, n_samples, samples)
    _check_metrics_apply(options.metrics, conditional=sample_set.labels is not None)
    options = dataclasses.replace(options, n_samples=n)  # The floor's columns are named for it too.
    preparation = DatasetPreparation(options, device, progress or SilentProgress(), announce)
    data = preparation.load_and_prepare(entry)
    identity = _identity(sample_set.sha256, n, options, data, preparation.data_sha256[name])
    run_id = f"{name}-external-{label}-{stable_hash(identity, 10)}"
    path = options.out / SCORES_DIR / f"{run_id}.json"
    earlier = earlier_record(path, run_id, lambda record: record.external is not None, announce)
    if earlier is not None:
        return Scored(earlier, path, reused=True)
    record = _record(run_id, label, samples, sample_set, n, data, device)
    atomic_write_json(path, record.to_dict())
    rebuild_leaderboard(options.out)
    return Scored(record, path, reused=False)


def checked_label(label: str | None, samples: Path) -> str:
    """The row's label: ``label``, or the file's (folder's) name; it names the record's file, so it
    is letters, digits and ``._+-``."""
    if label is None:
        guess = re.sub(r"[^A-Za-z0-9._+-]+", "-", samples.stem if is_npz(samples) else samples.name)
        label = guess.strip("-._+")[:64] or "samples"
    if not LABEL.fullmatch(label):
        raise UserError(
            f"--name must be 1 to 64 letters, digits, '.', '_', '+' or '-' starting with a letter or digit, "
            f"got '{label}'"
        )
    return label


def _count(sample_set: SampleSet, n_samples: int | None, samples: Path) -> int:
    """How many of the set's images are scored: all, or the first ``n_samples``; at least as many as
    the metrics need."""
    held = len(sample_set.images)
    if n_samples is not None and n_samples > held:
        raise UserError(f"--n-samples {n_samples:,}, but {shown(samples)} holds {held:,} images")
    n = held if n_samples is None else n_samples
    if n < MIN_N_SAMPLES:
        what = f"--n-samples {n}" if n_samples is not None else f"{shown(samples)}: {n} images"
        raise UserError(f"{what}; the metrics need at least {MIN_N_SAMPLES} samples")
    return n


def _check_metrics_apply(metrics: tuple[str, ...], conditional: bool) -> None:
    """Refuse metrics that give an unlabelled sample set nothing to compute."""
    if not any(metric(name).applies_to(conditional) for name in metrics):
        raise UserError(
            f"--metrics {','.join(metrics)}: none applies to samples without labels (conditional models "
            "only); give the labels (an npz's labels, a folder's labels.txt) or add a metric such as fd_clf"
        )


def _identity(sha256: str, n: int, options: RunOptions, data: LoadedData, data_sha256: str) -> dict[str, Any]:
    """Everything that affects a score's numbers: the samples, how many, and the evaluation setup
    (genbench.running.score_records)."""
    return {
        "version": SCORE_VERSION,
        "samples_sha256": sha256,
        "n_samples": n,
        **protocol_identity(options, data, data_sha256),
    }


def _record(
    run_id: str,
    label: str,
    samples: Path,
    sample_set: SampleSet,
    n: int,
    data: LoadedData,
    device: torch.device,
) -> RunRecord:
    """Evaluate the first ``n`` samples as a run's evaluation does, and record it."""
    started = time.monotonic()
    images = sample_set.images[:n]
    labels = None if sample_set.labels is None else sample_set.labels[:n]
    evaluation = evaluate(images, data.setup, labels, label=f"{data.entry.name}/{label}/")
    protocol = {
        column: {**entry, "samples_sha256": sample_set.sha256}
        for column, entry in evaluation.protocol.items()
    }
    seconds = time.monotonic() - started
    return RunRecord(
        run_id=run_id,
        dataset=data.entry.name,
        dataset_description=data.entry.description,
        model=f"{EXTERNAL_PREFIX}{label}",
        seed=None,
        status="finished",
        device=device_name(device),
        node=platform.node(),
        protocol_summary=data.setup.summary(),
        metrics=evaluation.metrics,
        protocol=protocol,
        eval_seconds=round(seconds, 3),
        wall_seconds=round(seconds, 3),
        phase_seconds={f"metric/{name}": round(value, 3) for name, value in evaluation.seconds.items()},
        external={
            "label": label,
            "path": str(samples.resolve()),
            "sha256": sample_set.sha256,
            "form": "npz" if samples.is_file() else "folder",
            "n_samples": n,
            "n_in_set": len(sample_set.images),
            "labels": sample_set.labels is not None,
        },
    )
