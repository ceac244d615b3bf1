"""CUDA paths: the same run on the GPU. Skipped, with the reason, where no CUDA GPU exists."""

from __future__ import annotations

from pathlib import Path

import fakes
import pytest
import torch
from genbench_builtin.models import ACGAN, DCGAN, GAN, WGANGP

from genbench.core.batches import DeviceBatches
from genbench.options.config import RunOptions
from genbench.running.fast_path import StepOptions, Stepper
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
        kimg=2,
        device="cuda",
        out=tmp_path,
        n_samples=300,
    )
    (record,) = Benchmark(options, fake_registry).run()
    assert record.device == torch.cuda.get_device_name() and record.metrics["fd_clf_300"] > 0


@pytest.mark.parametrize("name", ["dcgan", "wgan-gp", "gan", "acgan"])
def test_a_captured_step_trains_like_the_eager_one(name: str) -> None:
    """Every built-in model's step captured in a CUDA graph (wgan-gp: five critic steps with the gradient
    penalty per graph) ends near the eager run's losses; noise differs, so only roughly."""
    cls = {"dcgan": DCGAN, "wgan-gp": WGANGP, "gan": GAN, "acgan": ACGAN}[name]
    shape, device = fakes.Bars.shape, torch.device("cuda")
    split = fakes.Bars(Path("unused")).load("train")
    final = {}
    for capture in (False, True):
        torch.manual_seed(0)
        with device:
            model = cls.build(shape, batch_size=16).to(device)
        said: list[str] = []
        stepper = Stepper(model, device, StepOptions("fp32", capture=capture, announce=said.append))
        batches = DeviceBatches(split, device, seed=0)
        logs = []
        steps = 0
        while steps < 60:
            count = stepper.block(steps, 60 - steps)
            logs += stepper.steps([batches.next(16) for _ in range(count)])
            steps += count
        assert (stepper.graph is not None) == capture and not [s for s in said if "failed" in s]
        final[capture] = torch.stack([step["loss_d"] for step in logs[-10:]]).float().mean().cpu()
    assert torch.isfinite(final[True])
    assert torch.allclose(final[True], final[False], rtol=0.5, atol=0.5)
