"""The runner's fast path (genbench.running.fast_path, genbench.running.capture) as far as a CPU shows it:
precision, layout and capture are decided from the models' declarations and the device (a CPU's bf16
hardware faked either way, so the tests pass on any CPU), a float32 CPU run is the plain eager step, a
bf16 CPU run trains and records bf16, and a step that cannot be captured falls back to eager steps
with one line saying why.

Capture itself needs a CUDA GPU; tests/running/test_cuda.py runs where one exists."""

from __future__ import annotations

import contextlib
import json
import math
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import fakes
import pytest
import torch
from caches import session_cache
from genbench_builtin.models import ACGAN, CGAN, DCGAN, GAN, VAE, WGAN
from typer.testing import CliRunner

from genbench.api import DataShape
from genbench.cli import app
from genbench.core.batches import DeviceBatches
from genbench.running import capture, device, fast_path
from genbench.running.capture import CAPTURE_ENV, capture_refusal
from genbench.running.fast_path import StepOptions, Stepper, resolve_precision

pytestmark = pytest.mark.usefixtures("one_thread")  # See conftest.one_thread.

CPU, CUDA = torch.device("cpu"), torch.device("cuda")  # A device object needs no GPU.
DIGITS = DataShape(1, 8, 10)


@pytest.fixture
def bf16_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """This CPU as one with AMX bf16, whatever it has."""
    _fake_cpu(monkeypatch, "AMX bf16")


@pytest.fixture
def plain_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """This CPU as one without bf16 hardware, whatever it has."""
    _fake_cpu(monkeypatch, None)


def _fake_cpu(monkeypatch: pytest.MonkeyPatch, bf16: str | None) -> None:
    for module in (device, fast_path):
        monkeypatch.setattr(module, "cpu_bf16_hardware", lambda: bf16)


def test_auto_is_bf16_on_a_cpu_with_bf16_hardware_for_models_declared_safe(bf16_cpu: None) -> None:
    assert resolve_precision("auto", CPU, DCGAN) == "bf16" and DCGAN.bf16_safe
    assert resolve_precision("auto", CPU, VAE) == "fp32" and not VAE.bf16_safe
    assert resolve_precision("auto", CPU, fakes.PixelGaussian) == "fp32"  # A plugin that says nothing.
    assert resolve_precision("fp32", CPU, DCGAN) == "fp32"  # --precision fp32 forces float32.
    assert device.device_name(CPU).endswith(" threads, AMX bf16)")  # The record says why.


def test_the_mlp_gans_stay_float32_where_bf16_changed_their_results(bf16_cpu: None) -> None:
    # benchmarks/results/bf16-quality.md: bf16 moved gan's (digits) and cgan's (Fashion-MNIST) metrics
    # beyond the float32 seed spread; the convolutional acgan and dcgan stayed within it.
    assert [resolve_precision("auto", CPU, model) for model in (GAN, CGAN)] == ["fp32", "fp32"]
    assert [resolve_precision("auto", CPU, model) for model in (DCGAN, ACGAN)] == ["bf16", "bf16"]


def test_auto_is_float32_on_a_cpu_without_bf16_hardware(plain_cpu: None) -> None:
    assert resolve_precision("auto", CPU, DCGAN) == "fp32"
    assert resolve_precision("bf16", CPU, DCGAN) == "bf16"  # Asked for: emulated, but as asked.
    assert device.device_name(CPU).endswith(" threads)")


def test_the_bf16_hardware_is_asked_of_torch_or_read_from_cpuinfo(monkeypatch: pytest.MonkeyPatch) -> None:
    def detect(amx: object, avx512: object, flags: set[str]) -> str | None:
        monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", amx, raising=False)
        monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", avx512, raising=False)
        monkeypatch.setattr(device, "_cpuinfo_flags", lambda: flags)
        device.cpu_bf16_hardware.cache_clear()
        return device.cpu_bf16_hardware()

    try:
        assert detect(lambda: True, lambda: True, set()) == "AMX bf16"
        assert detect(lambda: False, lambda: True, {"amx_bf16"}) == "AVX-512 BF16"  # torch knows better.
        assert detect(lambda: False, lambda: False, {"avx512_bf16"}) is None
        assert detect(None, None, {"avx2", "amx_bf16", "amx_tile"}) == "AMX bf16"  # An older torch.
        assert detect(None, None, {"avx512f", "avx512_bf16"}) == "AVX-512 BF16"
        assert detect(None, None, {"avx2"}) is None
    finally:
        monkeypatch.undo()
        device.cpu_bf16_hardware.cache_clear()


def test_precision_is_bf16_on_cuda_only_where_declared_safe() -> None:
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


def test_a_bf16_cpu_step_runs_channels_last_under_autocast(bf16_cpu: None) -> None:
    torch.manual_seed(0)
    model = DCGAN.build(DIGITS, batch_size=16)
    stepper = Stepper(model, CPU, StepOptions("bf16"))
    assert stepper.channels_last  # Declared by dcgan, a bf16 run, a CPU with bf16 hardware.
    kernels = [p for p in model.parameters() if p.dim() == 4]
    assert kernels and all(p.is_contiguous(memory_format=torch.channels_last) for p in kernels)
    seen: list[torch.dtype] = []
    for module in model.modules():
        if isinstance(module, torch.nn.Conv2d):
            module.register_forward_hook(lambda m, args, out: seen.append(out.dtype))
    (logs,) = stepper.steps([(torch.rand(16, 1, 8, 8) * 2 - 1, torch.zeros(16, dtype=torch.long))])
    assert torch.bfloat16 in seen and all(torch.isfinite(value) for value in logs.values())
    assert all(p.dtype == torch.float32 for p in model.parameters())  # Weights stay float32.


def test_a_cpu_keeps_the_plugins_layout_in_float32_or_without_bf16_hardware(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    torch.manual_seed(0)
    for bf16, precision in ((None, "bf16"), ("AMX bf16", "fp32")):
        _fake_cpu(monkeypatch, bf16)
        assert not Stepper(DCGAN.build(DIGITS), CPU, StepOptions(precision)).channels_last
    assert not Stepper(GAN.build(DIGITS), CPU, StepOptions("bf16")).channels_last  # Not declared.


def test_a_real_run_on_a_bf16_cpu_trains_in_bf16_and_records_it(
    bf16_cpu: None, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    out = tmp_path / "results"
    args = ["run", "--models", "dcgan", "--data", "digits", "--kimg", "0.5", "--n-samples", "200"]
    args += ["--metrics", "fd_clf,fd_pca", "--log-every", "2", "--out", str(out), "--quiet", "--no-report"]
    cache = str(session_cache(tmp_path_factory))
    env = {"GENBENCH_DISABLE_PLUGIN_AUTOLOAD": None, "GENBENCH_CACHE_DIR": cache}
    result = CliRunner().invoke(app, args, env=env)  # --precision auto.
    assert result.exit_code == 0, result.output
    (run,) = (out / "runs").iterdir()
    record = json.loads((run / "metrics.json").read_text())
    config = json.loads((run / "config.json").read_text())
    assert record["precision"] == "bf16" and record["device"].endswith(", AMX bf16)")
    assert config["training"]["precision"] == "bf16"  # In the run's spec and identity.
    metrics = {name: value for name, value in record["metrics"].items() if value is not None}
    assert {"fd_clf_200", "fd_pca_200"} <= set(metrics) and all(map(math.isfinite, metrics.values()))
