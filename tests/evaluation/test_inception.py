"""Inception metrics: weights found (local file, hub cache, download) or explained, and the real
torch-fidelity loading and feature code run on a weights file of the right format with random values."""

from __future__ import annotations

import dataclasses
import hashlib
import math
import shutil
import socket
from pathlib import Path
from unittest import mock

import fakes
import pytest
import torch
import torch_fidelity.feature_extractor_inceptionv3 as tf_inception
from setups import make_setup

from genbench.errors import UserError
from genbench.evaluation.classifier import ClassifierInfo
from genbench.evaluation.evaluate import evaluate
from genbench.evaluation.inception import (
    WEIGHTS_FILE,
    InceptionWeights,
    hub_weights_path,
    resolve_inception_weights,
)
from genbench.options.config import RunOptions
from genbench.running.sweep import Benchmark

INCEPTION = ("fid", "kid", "isc", "prc")
# With their intervals' ends, in the order evaluation fills them (genbench.core.metrics).
FILLED = [
    *("fid_20", "fid_20_lo", "fid_20_hi", "kid_20", "kid_20_lo", "kid_20_hi", "kid_std_20"),
    *("isc_20", "isc_20_lo", "isc_20_hi", "isc_std_20"),
    *("precision_20", "precision_20_lo", "precision_20_hi", "recall_20", "recall_20_lo", "recall_20_hi"),
]


pytestmark = pytest.mark.usefixtures("one_thread")  # See conftest.one_thread.


@pytest.fixture(scope="module")
def random_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """torch-fidelity's InceptionV3 state dict with random He-normal weights, saved like the real file."""
    # Build the module without loading anything: no download, no file.
    with (
        mock.patch.object(tf_inception, "load_state_dict_from_url", lambda *args, **kwargs: {}),
        mock.patch.object(
            tf_inception.FeatureExtractorInceptionV3, "load_state_dict", lambda *args, **kw: None
        ),
    ):
        network = tf_inception.FeatureExtractorInceptionV3("inception-v3-compat", ["2048"])
    generator = torch.Generator().manual_seed(0)
    state = network.state_dict()
    for name, value in state.items():
        if name.endswith("weight") and value.ndim > 1:  # Scaled so features neither vanish nor explode.
            state[name] = torch.randn(value.shape, generator=generator) * (2 / value[0].numel()) ** 0.5
    path = tmp_path_factory.mktemp("inception") / WEIGHTS_FILE
    torch.save(state, path)
    return path


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_weights_come_from_the_local_file_then_the_hub_cache(random_weights: Path) -> None:
    explicit = resolve_inception_weights(random_weights, download=False)
    assert (explicit.path, explicit.source, explicit.sha256) == (
        random_weights,
        "--fid-weights",
        _sha256(random_weights),
    )
    assert not resolve_inception_weights(None, download=False).available  # The test hub cache is empty.
    hub_weights_path().parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(random_weights, hub_weights_path())
    cached = resolve_inception_weights(None, download=False)
    assert cached.available and cached.source == "torch hub cache" and cached.sha256 == explicit.sha256
    hub_weights_path().unlink()


def test_without_weights_the_reason_says_where_it_looked(monkeypatch: pytest.MonkeyPatch) -> None:
    offline = resolve_inception_weights(None, download=False)
    assert (
        not offline.available and "GENBENCH_NO_DOWNLOAD" in offline.reason and WEIGHTS_FILE in offline.reason
    )

    def unreachable(url: str, destination: str, **kwargs: object) -> None:
        # The download runs under a short socket timeout, so a silent network cannot hang it.
        assert socket.getdefaulttimeout() == 0.5
        raise OSError("Network is unreachable")

    previous = socket.getdefaulttimeout()
    monkeypatch.setattr(torch.hub, "download_url_to_file", unreachable)
    failed = resolve_inception_weights(None, download=True, timeout=0.5)
    assert not failed.available and "OSError: Network is unreachable" in failed.reason
    assert socket.getdefaulttimeout() == previous


def test_a_download_lands_in_the_hub_cache(random_weights: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def download(url: str, destination: str, hash_prefix: str, progress: bool) -> None:
        assert url.endswith(WEIGHTS_FILE) and hash_prefix == "6726825d"
        shutil.copy(random_weights, destination)

    monkeypatch.setattr(torch.hub, "download_url_to_file", download)
    weights = resolve_inception_weights(None, download=True)
    assert weights.source == "downloaded" and weights.path == hub_weights_path()
    hub_weights_path().unlink()


def test_inception_metrics_run_through_torch_fidelity(random_weights: Path, tmp_path: Path) -> None:
    dataset = fakes.Bars(Path("unused"))
    train, test = dataset.load("train"), dataset.load("test")
    classifier = ClassifierInfo(Path("unused"), "unused", "unused", 1.0)  # Not used by these metrics.
    weights = resolve_inception_weights(random_weights, download=False)
    setup = make_setup("bars", test, classifier, tmp_path, INCEPTION, n_reference=20, inception=weights)
    progress = mock.Mock()
    setup = dataclasses.replace(setup, progress=progress)
    # 8x8 grayscale images: repeated to RGB and resized to 299x299 by torch-fidelity's extractor.
    evaluation = evaluate(train.images[:20], setup)
    assert list(evaluation.metrics) == FILLED
    assert all(math.isfinite(v) for v in evaluation.metrics.values()), evaluation.metrics
    metrics = evaluation.metrics
    assert metrics["fid_20_lo"] <= metrics["fid_20"] <= metrics["fid_20_hi"]  # Inception's FD has one too.
    assert evaluation.metrics["fid_20"] > 0 and evaluation.metrics["isc_20"] >= 1
    protocol = evaluation.protocol["fid_20"]
    assert protocol["weights_sha256"] == weights.sha256 and protocol["extractor"].endswith(
        "inception-v3-compat"
    )
    assert protocol["n_generated"] == 20 and protocol["n_reference"] == 20
    progress.start.assert_called_once_with("inception-metrics", 40, unit="images")  # The slow pass shows it.
    progress.stop.assert_called_once()
    # The reference features were cached under the weights' hash.
    assert any(weights.key in path.name for path in tmp_path.iterdir())


def test_a_run_without_weights_warns_once_and_computes_the_rest(fake_registry, tmp_path: Path) -> None:
    options = RunOptions(
        models=("pixel-gaussian",),
        datasets=("bars",),
        seeds=(0, 1),
        device="cpu",
        out=tmp_path,
        n_samples=100,
        metrics=("fd_clf", "fid", "isc"),
    )
    messages: list[str] = []
    records = Benchmark(options, fake_registry, announce=messages.append).run()
    warnings = [m for m in messages if m.startswith("warning:")]
    # Issue 19: four lines at 80 columns; one, naming the Inception metrics asked for.
    assert warnings == ["warning: fid, isc stay empty: no Inception weights (see --fid-weights)"]
    assert len(warnings[0]) <= 80
    for record in records:
        assert record.metrics["fid_100"] is None and record.metrics["isc_std_100"] is None
        assert "GENBENCH_NO_DOWNLOAD" in record.protocol["fid_100"]["unavailable"]
        assert record.metrics["fd_clf_100"] > 0
        assert record.protocol_summary["inception_weights"] == "unavailable"


@pytest.mark.parametrize(
    "content",
    [b"<html>not found</html>", None],  # Not a pickle at all; a torch file of something else.
)
def test_fid_weights_that_are_not_inception_weights_are_one_line(
    tmp_path: Path, content: bytes | None
) -> None:
    path = tmp_path / "weights.pth"
    if content is None:
        torch.save({"conv.weight": torch.zeros(2)}, path)
    else:
        path.write_bytes(content)
    with pytest.raises(UserError, match=r"is not an Inception weights file") as error:
        resolve_inception_weights(path, download=False)
    assert "\n" not in str(error.value) and str(path) in str(error.value)


def test_the_warning_is_not_repeated_when_every_run_is_reused(fake_registry, tmp_path: Path) -> None:
    options = RunOptions(
        models=("pixel-gaussian",),
        datasets=("bars",),
        device="cpu",
        out=tmp_path,
        n_samples=100,
        metrics=("fd_clf", "fid"),
        checkpoint_every=None,
        eval_every=None,
    )
    first: list[str] = []
    Benchmark(options, fake_registry, announce=first.append).run()
    assert any(m.startswith("warning: fid stay empty") for m in first)
    again: list[str] = []
    Benchmark(options, fake_registry, announce=again.append).run()
    assert any("reusing its record" in m for m in again)
    assert not any(m.startswith("warning:") for m in again), again


def test_inception_weights_record_their_protocol() -> None:
    missing = InceptionWeights(None, reason="offline")
    assert missing.protocol()["unavailable"] == "offline" and not missing.available
    present = InceptionWeights(Path("w.pth"), "ab" * 32, "--fid-weights")
    assert present.protocol()["weights_sha256"] == "ab" * 32 and present.key == "inception" + "ab" * 8
