"""Every training genbench does for a metric is deterministic (issue 25): the divergence estimators and
the reference classifier give the same bits in fresh processes whatever the caller's threads, random
state and image layout; their context sets torch's deterministic settings and gives the caller's back,
and the estimates' protocol records it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import fakes
import pytest
import torch
import torch.nn.functional as F

from genbench.core.metrics import metric
from genbench.core.progress import SilentProgress
from genbench.core.run_spec import DivergenceSettings
from genbench.evaluation import deterministic, estimates
from genbench.evaluation.adaptive_pool import pooled_by_matrices
from genbench.evaluation.classifier import Recipe, train_classifier
from genbench.evaluation.computation import Request
from genbench.evaluation.divergence import HeldOut

ROOT = Path(__file__).resolve().parents[2]

# One estimate of each kind in a fresh process: ``threads`` torch threads, some random draws and
# another seed before, and the generated images in (N, C, H, W) or channels-last strides (as an npz
# read back gives them). Prints the estimates and every held-out term, exactly (float.hex).
ESTIMATE_IN_A_PROCESS = """
import json, sys
from pathlib import Path
import torch, torch.nn.functional as F
from genbench_builtin.datasets import Digits
from genbench.core.run_spec import DivergenceSettings
from genbench.evaluation.divergence import jsd_held_out, make_halves, w1_held_out

threads, channels_last = int(sys.argv[1]), sys.argv[2] == "channels_last"
torch.set_num_threads(threads)
torch.manual_seed(1234)
torch.rand(1000)
digits = Digits(Path("unused"))
def rgb16(images):
    images = F.interpolate(images.float(), size=16, mode="bilinear")
    tinted = torch.cat([images, images.flip(2), images.flip(3)], dim=1)
    return tinted.round().clamp(0, 255).to(torch.uint8)
real, fake = rgb16(digits.load("test").images), rgb16(digits.load("train").images[:400]).flip(3)
if channels_last:
    fake = fake.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)
settings = DivergenceSettings(steps=40, batch_size=32, width=8)
halves = make_halves(real, fake, settings, torch.device("cpu"))
found = {}
for name, estimate in (("jsd", jsd_held_out), ("w1", w1_held_out)):
    held_out = estimate(halves, settings)
    terms = torch.cat([held_out.real, held_out.generated]).double().tolist()
    found[name] = [float(held_out.value).hex()] + [float(t).hex() for t in terms]
print(json.dumps(found))
"""


def _estimates_in_a_process(threads: int, layout: str) -> dict[str, list[str]]:
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "plugins")])}
    done = subprocess.run(
        [sys.executable, "-c", ESTIMATE_IN_A_PROCESS, str(threads), layout],
        capture_output=True,
        text=True,
        env=environment,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_the_estimators_give_the_same_bits_in_fresh_processes_whatever_threads_and_layout() -> None:
    # Before: 1 and 4 threads trained different critics (oneDNN splits a convolution's backward by
    # thread count), and channels-last images (a score of an npz) summed in another order than a run's.
    first = _estimates_in_a_process(1, "nchw")
    second = _estimates_in_a_process(4, "channels_last")
    assert first == second
    assert len(first["w1"]) > 100 and first["w1"][0] != first["jsd"][0]  # Real estimates, not a stub.


def _settings() -> tuple[bool, bool, bool, bool, int]:
    return (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        torch.backends.cudnn.deterministic,
        torch.backends.cudnn.benchmark,
        torch.get_num_threads(),
    )


@pytest.fixture
def callers_settings() -> Iterator[tuple[bool, bool, bool, bool, int]]:
    """A caller's settings unlike the context's (warn-only deterministic algorithms, cuDNN autotuning,
    two threads), given back as they were after the test."""
    before = _settings()
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = False, True
    torch.set_num_threads(2)
    yield _settings()
    torch.use_deterministic_algorithms(before[0], warn_only=before[1])
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = before[2], before[3]
    torch.set_num_threads(before[4])


def test_the_context_sets_the_deterministic_settings_and_gives_the_callers_back(callers_settings) -> None:
    with deterministic.deterministic():
        assert _settings() == (True, False, True, False, deterministic.THREADS)
    assert _settings() == callers_settings


def test_the_context_gives_the_callers_settings_back_when_the_training_fails(callers_settings) -> None:
    with pytest.raises(ZeroDivisionError), deterministic.deterministic():
        assert torch.get_num_threads() == deterministic.THREADS
        _ = 1 / 0
    assert _settings() == callers_settings


def test_the_context_refuses_an_op_without_a_deterministic_kernel() -> None:
    # Not warn_only: a metric must not become a random number with a warning nobody reads. put_
    # without accumulation has no deterministic kernel, on the CPU too.
    index, values = torch.tensor([0, 0]), torch.tensor([1.0, 2.0])
    with deterministic.deterministic(), pytest.raises(RuntimeError, match="deterministic"):
        torch.zeros(3).put_(index, values, accumulate=False)
    torch.zeros(3).put_(index, values, accumulate=False)  # The caller's setting again: allowed.


def test_cublas_is_configured_where_the_user_has_not(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    deterministic.configure_cublas()
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
    monkeypatch.setenv("CUBLAS_WORKSPACE_CONFIG", ":16:8")  # The other documented setting: the user's.
    deterministic.configure_cublas()
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":16:8"


@pytest.mark.parametrize("size", [2, 4, 7, 8, 14])
def test_the_cuda_pooling_is_torchs_adaptive_average(size: int) -> None:
    # The estimators pool by matrix products on CUDA (deterministic backward): checked here on the CPU
    # against torch's own adaptive pooling, values and gradients.
    images = torch.randn(3, 5, size, size, generator=torch.Generator().manual_seed(size), requires_grad=True)
    weights = torch.randn(3, 5, 4, 4, generator=torch.Generator().manual_seed(0))
    ours = pooled_by_matrices(images, 4)
    (ours_grad,) = torch.autograd.grad((ours * weights).sum(), images)
    torchs = F.adaptive_avg_pool2d(images, 4)
    (torchs_grad,) = torch.autograd.grad((torchs * weights).sum(), images)
    torch.testing.assert_close(ours, torchs, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(ours_grad, torchs_grad, rtol=1e-6, atol=1e-6)


def test_the_classifier_trains_the_same_weights_whatever_the_callers_threads_and_leaves_its_rng() -> None:
    dataset = fakes.Bars(Path("unused"))
    train, shape = dataset.load("train"), dataset.shape
    recipe = Recipe(images=1_000, min_epochs=1, max_epochs=2, width=8)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(3)
        state = torch.random.get_rng_state()
        first = train_classifier(shape, train, torch.device("cpu"), recipe).state_dict()
        assert torch.equal(torch.random.get_rng_state(), state)
        torch.set_num_threads(1)
        second = train_classifier(shape, train, torch.device("cpu"), recipe).state_dict()
    finally:
        torch.set_num_threads(threads)
    assert all(torch.equal(first[name], second[name]) for name in first)


def test_the_estimates_protocol_says_they_were_trained_deterministically(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    held_out = HeldOut(0.5, 0.0, torch.zeros(4), torch.zeros(4))  # An estimator's result.
    monkeypatch.setattr(estimates, "resolve", lambda name: lambda halves, settings, progress: held_out)
    images = torch.zeros(8, 1, 8, 8, dtype=torch.uint8)
    cpu, settings = torch.device("cpu"), DivergenceSettings()
    setup = SimpleNamespace(reference=images, divergence=settings, device=cpu, progress=SilentProgress())
    request = Request(images, setup)  # type: ignore[arg-type]  # What estimates reads of a setup.
    computed = estimates.estimates([metric("w1_critic"), metric("jsd_clf")], request)
    for name in ("w1_critic", "jsd_clf"):
        recorded = computed[name].protocol["deterministic"]
        assert recorded["deterministic_algorithms"] is True and recorded["cpu_threads"] == 1
        assert recorded["cudnn_deterministic"] is True and recorded["cudnn_benchmark"] is False
        assert recorded["cublas_workspace_config"] is None  # Only a CUDA estimate uses cuBLAS.
        assert recorded["input_layout"] == "contiguous (NCHW)"
