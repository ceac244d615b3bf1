"""CUDA paths: the same run on the GPU. Skipped, with the reason, where no CUDA GPU exists."""

from __future__ import annotations

from pathlib import Path

import fakes
import pytest
import torch

from genbench.batches import DeviceBatches
from genbench.options.config import Budget, RunOptions
from genbench.running.sweep import Benchmark

pytestmark = pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA GPU; this machine has none"
)


def test_batches_live_on_the_gpu() -> None:
    split = fakes.Bars(Path("unused")).load("train")
    batches = DeviceBatches(split, torch.device("cuda"), seed=0)
    images, labels = batches.next(16)
    assert batches.on_device and images.is_cuda and labels.is_cuda


def test_a_run_on_cuda_records_the_gpu(fake_registry, tmp_path: Path) -> None:
    options = RunOptions(
        models=("pixel-gaussian",),
        datasets=("bars",),
        budget=Budget(2),
        device="cuda",
        out=tmp_path,
        n_samples=300,
    )
    (record,) = Benchmark(options, fake_registry).run()
    assert record["device"] == torch.cuda.get_device_name() and record["metrics"]["fd_clf_300"] > 0
