"""The runner's fast path (genbench.running.fast_path, genbench.running.capture) as far as a CPU shows it:
precision and capture are decided from the models' declarations, a CPU run is the plain eager step,
and a step that cannot be captured falls back to eager steps with one line saying why.

Capture itself needs a CUDA GPU; tests/running/test_cuda.py runs where one exists."""

from __future__ import annotations

import contextlib
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import fakes
import pytest
import torch
from genbench_builtin.models import DCGAN, GAN, VAE, WGAN

from genbench.api import DataShape
from genbench.core.batches import DeviceBatches
from genbench.running import capture
from genbench.running.capture import CAPTURE_ENV, capture_refusal
from genbench.running.fast_path import StepOptions, Stepper, resolve_precision

pytestmark = pytest.mark.usefixtures("one_thread")  # See conftest.one_thread.

CPU, CUDA = torch.device("cpu"), torch.device("cuda")  # A device object needs no GPU.
DIGITS = DataShape(1, 8, 10)


def test_precision_is_float32_on_cpu_and_bf16_on_cuda_only_where_declared_safe() -> None:
    assert resolve_precision("auto", CPU, DCGAN) == "fp32"
    assert resolve_precision("auto", CUDA, DCGAN) == "bf16" and DCGAN.bf16_safe
    assert resolve_precision("auto", CUDA, VAE) == "fp32" and not VAE.bf16_safe
    assert resolve_precision("auto", CUDA, fakes.PixelGaussian) == "fp32"  # A plugin that says nothing.
    assert resolve_precision("bf16", CPU, VAE) == "bf16" and resolve_precision("fp32", CUDA, DCGAN) == "fp32"


def test_capture_needs_cuda_a_declaration_and_no_opt_out(monkeypatch: pytest.MonkeyPatch) -> None:
    torch.manual_seed(0)
    wgan, plain = WGAN.build(DIGITS), fakes.PixelGaussian.build(DIGITS)
    assert capture_refusal(wgan, CPU) == "CUDA graphs need a CUDA device"
    assert capture_refusal(wgan, CUDA) is None and wgan.step_period == wgan.hparams.n_critic == 5
    assert capture_refusal(plain, CUDA) == "'pixel-gaussian' does not declare its step capturable"
    monkeypatch.setenv(CAPTURE_ENV, "0")
    assert capture_refusal(wgan, CUDA) == f"${CAPTURE_ENV}=0"


def _batches(n: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    split = fakes.Bars(Path("unused")).load("train")
    batches = DeviceBatches(split, CPU, seed=0)
    return [batches.next(16) for _ in range(n)]


def test_a_cpu_run_takes_exactly_the_plugins_eager_steps() -> None:
    shape = fakes.Bars.shape
    torch.manual_seed(0)
    direct = GAN.build(shape, batch_size=16)
    torch.manual_seed(0)
    stepped = GAN.build(shape, batch_size=16)
    said: list[str] = []
    stepper = Stepper(stepped, CPU, StepOptions("fp32", announce=said.append))
    assert stepper.period == 1 and stepper.block(0, 100) == 1 and said == []  # Nothing to say on a CPU.

    torch.manual_seed(1)
    expected = [direct.train_step(images, labels) for images, labels in _batches(4)]
    torch.manual_seed(1)
    got = [logs for batch in _batches(4) for logs in stepper.steps([batch])]
    assert all(torch.equal(a[k], b[k]) for a, b in zip(expected, got, strict=True) for k in a)
    for a, b in zip(direct.parameters(), stepped.parameters(), strict=True):
        assert torch.equal(a, b)


def test_an_uncapturable_step_on_cuda_is_eager_with_one_line() -> None:
    torch.manual_seed(0)
    model = fakes.PixelGaussian.build(fakes.Bars.shape)
    said: list[str] = []
    stepper = Stepper(model, CUDA, StepOptions(announce=said.append))
    assert said == [
        "pixel-gaussian: training step not captured in a CUDA graph "
        "('pixel-gaussian' does not declare its step capturable); eager"
    ]
    assert stepper.graph is None and stepper.period == 1


def _fake_cuda_graphs(error: Exception) -> contextlib.ExitStack:
    """torch.cuda's streams as no-ops and a capture that fails with ``error``: the fallback on a CPU."""
    stack = contextlib.ExitStack()
    stream = SimpleNamespace(wait_stream=lambda other: None)

    @contextlib.contextmanager
    def failing_graph(graph: object):
        yield
        raise error

    for name, value in {
        "Stream": lambda: stream,
        "current_stream": lambda: stream,
        "stream": lambda s: contextlib.nullcontext(),
        "CUDAGraph": object,
        "graph": failing_graph,
    }.items():
        stack.enter_context(mock.patch.object(torch.cuda, name, value))
    stack.enter_context(mock.patch.object(capture, "make_capturable", lambda model: None))
    return stack


def test_a_failed_capture_falls_back_to_eager_steps_with_the_schedule_intact() -> None:
    torch.manual_seed(0)
    model = WGAN.build(DIGITS, batch_size=16, n_critic=2)
    said: list[str] = []
    with _fake_cuda_graphs(RuntimeError("operation not permitted when stream is capturing")):
        stepper = Stepper(model, CUDA, StepOptions(announce=said.append))
        stepper.channels_last = False  # Nothing to test about layouts here.
        warm_up = capture.WARMUP_PERIODS * 2
        for step in range(warm_up):
            assert stepper.block(step, 100) == 1  # Eager warm-up steps first.
            assert (
                len(stepper.steps([(torch.rand(16, 1, 8, 8) * 2 - 1, torch.zeros(16, dtype=torch.long))]))
                == 1
            )
        assert stepper.block(warm_up, 100) == 2 and stepper.block(warm_up + 1, 100) == 1  # Whole periods.
        images = torch.rand(16, 1, 8, 8) * 2 - 1
        logs = stepper.steps([(images, torch.zeros(16, dtype=torch.long))] * 2)
    assert len(logs) == 2 and "loss_g" in logs[1]  # Taken eagerly: the generator's step came second.
    assert model.critic_steps == warm_up + 2  # The failed capture's run of the step's Python was undone.
    assert len(said) == 1 and said[0].startswith("wgan: CUDA graph capture failed (RuntimeError: operation")
    assert said[0].endswith("; training eagerly") and stepper.graph is None and stepper.period == 1
