"""The whole evaluation down its device path, on CPU tensors: with the device-side math switched on
(as a CUDA evaluation has it), ``evaluate`` takes the torch path for FD, KID, precision/recall and
FD∞, never torch-fidelity's NumPy, and records what the CPU path records within 1e-4 relative."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import fakes
import pytest
import torch
from setups import CPU, make_setup

import genbench.evaluation.fd_infinity
import genbench.evaluation.feature_comparison
from genbench.core.run_spec import IntervalSettings
from genbench.evaluation.classifier import Recipe, cached_classifier
from genbench.evaluation.evaluate import evaluate

pytestmark = pytest.mark.usefixtures("one_thread")  # See conftest.one_thread.
METRICS = ("fd_clf", "kid_clf", "prc_clf", "fd_inf_clf")


def _numpy_refused(*args: object, **kwargs: object) -> None:
    raise AssertionError("torch-fidelity's NumPy path taken on the device path")


def test_the_device_path_records_the_cpu_paths_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset = fakes.Bars(Path("unused"))
    train, test = dataset.load("train"), dataset.load("test")
    info = cached_classifier("bars", fakes.Bars.shape, train, test, tmp_path / "classifier", CPU, Recipe())
    setup = make_setup("bars", test, info, tmp_path / "fidelity", METRICS)
    setup = dataclasses.replace(setup, intervals=IntervalSettings(resamples=20))
    # A model's samples stand apart from the reference: the training images, a little noise added.
    noise = torch.randint(-20, 21, train.images.shape, generator=torch.Generator().manual_seed(0))
    samples = (train.images.int() + noise).clamp(0, 255).to(torch.uint8)
    on_cpu = evaluate(samples, setup)

    comparison, fd_infinity = genbench.evaluation.feature_comparison, genbench.evaluation.fd_infinity
    for module in (comparison, fd_infinity):
        monkeypatch.setattr(module, "in_torch", lambda device: True)
    for name in ("fid_statistics_to_metric", "kid_features_to_metric"):
        monkeypatch.setattr(comparison, name, _numpy_refused)
    monkeypatch.setattr(fd_infinity, "_fd_at_sizes", _numpy_refused)
    on_device = evaluate(samples, dataclasses.replace(setup, prepared={}))

    assert on_device.metrics.keys() == on_cpu.metrics.keys()
    # The same recipe: only where the arithmetic ran differs (and FD∞'s fit, numbers of the record).
    for column, protocol in on_cpu.protocol.items():
        assert on_device.protocol[column].keys() == protocol.keys(), column
        for key, recorded in protocol.items():
            numbers = isinstance(recorded, float) or (isinstance(recorded, list) and key != "sizes")
            expected = pytest.approx(recorded, rel=1e-4) if numbers else recorded
            assert on_device.protocol[column][key] == expected, (column, key)
    for column, value in on_cpu.metrics.items():
        assert value is not None, column
        assert on_device.metrics[column] == pytest.approx(value, rel=1e-4, abs=1e-9), column
    # Values far from 0, where a relative agreement means something (KID of 45-image subsets of these
    # 8x8 bars scatters widely around it, either side).
    assert on_cpu.metrics["fd_clf_300"] > 0.01 and abs(on_cpu.metrics["kid_clf_300"] or 0.0) > 1e-4
