"""Resume: a run killed at any point, or stopped by a signal, and run again ends exactly as a run that
never stopped (CPU, fixed seed); a corrupt checkpoint falls back to the previous one."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from functools import partial
from pathlib import Path
from typing import Any

import fakes
import numpy as np
import pytest
import torch
from caches import session_cache
from signals import signal_when_ready

from genbench.core.batches import DeviceBatches
from genbench.core.files import read_jsonl
from genbench.core.layout import PREVIOUS_RESUME_FILE, RESUME_FILE
from genbench.core.progress import SilentProgress
from genbench.core.run_spec import Budget, Schedule, TrainingSpec
from genbench.errors import Interrupted
from genbench.running.resume import (
    Unrestorable,
    checkpoint_payload,
    load_resume,
    restore,
    restore_rng_state,
    rng_state,
    save_resume,
)
from genbench.running.train_state import TrainState
from genbench.running.training import LogOnlyHooks, train

# A real model with global-RNG noise, dropout-free batch norm, Adam state and a shuffled data order:
# everything a resume must restore. 20 kimg on digits trains for a few seconds, long enough to kill.
RUN = [
    "run", "--models", "dcgan", "--data", "digits", "--kimg", "20", "--checkpoint-every", "1",
    "--eval-every", "5", "--n-eval", "100", "--n-samples", "300", "--log-every", "1",
    "--metrics", "fd_clf,kid_clf,prc_clf,jsd_clf", "--divergence-steps", "20", "--quiet",
]  # fmt: skip


def _command(out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-c", "from genbench.cli import main; main()", *RUN, "--out", str(out), *extra]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Every process of this module sees the same environment. Given explicitly: a module-scoped
    fixture is set up before conftest's per-test one, so the reference classifier comes from the same
    session cache in every process (trained with another thread count, its weights, and so every FD,
    would differ in the last digits). One thread: the same float reductions in every process."""
    return {
        **os.environ,
        "GENBENCH_CACHE_DIR": str(session_cache(tmp_path_factory)),
        "GENBENCH_NO_DOWNLOAD": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


def _finish(out: Path, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_command(out, *extra), env=env, capture_output=True, text=True, timeout=600)


def _run_dir(out: Path) -> Path:
    (run,) = (out / "runs").iterdir()
    return run


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]) -> Path:
    out = tmp_path_factory.mktemp("uninterrupted")
    done = _finish(out, env)
    assert done.returncode == 0, done.stderr
    return _run_dir(out)


def _ready(out: Path, at_kimg: float) -> bool:
    """Trained past ``at_kimg``, with both resume checkpoints complete on disk (none being replaced)."""
    logs = list((out / "runs").glob("*/train.jsonl"))
    if not logs:
        return False
    run = logs[0].parent
    if not ((run / RESUME_FILE).exists() and (run / PREVIOUS_RESUME_FILE).exists()):
        return False
    rows = read_jsonl(logs[0])
    return bool(rows) and rows[-1]["kimg"] >= at_kimg and not list(run.glob(".resume.pt.*"))


def _start_and_stop(out: Path, env: dict[str, str], sig: int, at_kimg: float, *extra: str) -> tuple[int, str]:
    """Start a run (``extra``: more options) and send ``sig`` once it has trained past ``at_kimg`` with
    checkpoints saved; returns its exit status and stderr."""
    return signal_when_ready(_command(out, *extra), env, sig, partial(_ready, out, at_kimg), timeout=300)


def _same_run(resumed: Path, reference: Path) -> None:
    """Same metrics, same final weights, same training log (but for wall-clock seconds)."""
    record, expected = (json.loads((d / "metrics.json").read_text()) for d in (resumed, reference))
    assert record["status"] == "finished" and record["resumed_at_kimg"]
    assert record["metrics"] == expected["metrics"]
    assert record["during_training"] == expected["during_training"]
    weights, expected_weights = (
        torch.load(d / "checkpoint.pt", weights_only=True)["model"]["networks"] for d in (resumed, reference)
    )
    assert weights.keys() == expected_weights.keys()
    assert all(torch.equal(weights[k], expected_weights[k]) for k in weights)

    def without_seconds(rows: list[dict]) -> list[dict]:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in rows]

    assert without_seconds(read_jsonl(resumed / "train.jsonl")) == without_seconds(
        read_jsonl(reference / "train.jsonl")
    )
    assert not (resumed / RESUME_FILE).exists()  # A finished run keeps only its final checkpoints.


@pytest.mark.parametrize(
    ("sig", "at_kimg", "corrupt"),
    [
        (signal.SIGKILL, 7.5, False),  # Killed between two checkpoints: the steps since are redone.
        (signal.SIGKILL, 12.0, True),  # ... and the newest checkpoint is damaged: the previous one.
        (signal.SIGTERM, 4.2, False),  # Asked to stop: it checkpoints on the spot and exits 143.
    ],
)
def test_a_stopped_run_resumes_to_the_same_result(
    tmp_path: Path, uninterrupted: Path, env: dict[str, str], sig: int, at_kimg: float, corrupt: bool
) -> None:
    out = tmp_path / "results"
    returncode, stderr = _start_and_stop(out, env, sig, at_kimg)
    run = _run_dir(out)
    assert not (run / "metrics.json").exists(), "the run ended before it could be stopped"
    if sig == signal.SIGTERM:
        assert returncode == 128 + signal.SIGTERM
        assert "interrupted (stopped at " in stderr and "run the same command again" in stderr
        assert "Traceback" not in stderr
    else:
        assert returncode == -signal.SIGKILL
    if corrupt:
        data = (run / RESUME_FILE).read_bytes()
        (run / RESUME_FILE).write_bytes(data[: len(data) // 2])

    resumed = _finish(out, env)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming at" in resumed.stderr
    if corrupt:
        assert f"checkpoint {run / RESUME_FILE} is damaged" in resumed.stderr
    _same_run(run, uninterrupted)


def test_a_tracked_run_killed_and_resumed_shows_every_step_once_in_tensorboard(
    tmp_path: Path, env: dict[str, str]
) -> None:
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
    from tensorboard_events import events, expected_series, scalar_series

    out, track = tmp_path / "results", ("--track", "tensorboard")
    env = {**env, "GENBENCH_PLUGINS": "genbench_builtin.trackers"}  # Also where no entry point is installed.
    returncode, _ = _start_and_stop(out, env, signal.SIGKILL, 7.5, *track)
    assert returncode == -signal.SIGKILL
    resumed = _finish(out, env, *track)
    assert resumed.returncode == 0 and "resuming at" in resumed.stderr, resumed.stderr
    run = _run_dir(out)
    record = json.loads((run / "metrics.json").read_text())
    first, _purging = sorted(run.glob("events.out.tfevents.*"))  # One file per process.
    (resumed_at,) = (round(kimg * 1000) for kimg in record["resumed_at_kimg"])
    assert max(event.step for event in EventFileLoader(str(first)).Load()) > resumed_at  # Logged again.
    # Rows the killed process logged after its checkpoint come again: TensorBoard shows each once, and
    # none is missing.
    accumulator = events(run)
    rows = read_jsonl(run / "train.jsonl")
    assert scalar_series(accumulator, ("train/", "test/", "eval/")) == expected_series(rows)
    shown = [event.step for event in accumulator.Images("pictures/fixed_latents")]
    assert shown == [round(kimg * 1000) for kimg in record["progress_kimg"]]


def test_rng_state_round_trips_through_a_weights_only_checkpoint(tmp_path: Path) -> None:
    random.seed(1), np.random.seed(2), torch.manual_seed(3)
    save_resume(tmp_path, {"model": {}, "batches": {}, "rng": rng_state(), "state": {}})
    expected = (random.random(), np.random.rand(), torch.rand(3))
    random.seed(9), np.random.seed(9), torch.manual_seed(9)
    restore_rng_state(load_resume(tmp_path, pytest.fail)["rng"])
    again = (random.random(), np.random.rand(), torch.rand(3))
    assert again[:2] == expected[:2] and torch.equal(again[2], expected[2])


def test_batches_continue_the_same_sequence_after_a_restore() -> None:
    split = fakes.Bars(Path("unused")).load("train")
    first = DeviceBatches(split, torch.device("cpu"), seed=5)
    for _ in range(7):  # Partway through the first epoch.
        first.next(32)
    state = first.state_dict()
    expected = [first.next(32)[0] for _ in range(15)]  # Across the next epoch boundary too.
    second = DeviceBatches(split, torch.device("cpu"), seed=0)
    second.load_state_dict(state)
    assert all(torch.equal(second.next(32)[0], images) for images in expected)


def test_a_corrupt_checkpoint_is_reported_and_the_previous_one_used(tmp_path: Path) -> None:
    base = {"model": {}, "batches": {}, "rng": {}}
    save_resume(tmp_path, {**base, "state": {"steps": 1}})
    save_resume(tmp_path, {**base, "state": {"steps": 2}})
    assert load_resume(tmp_path, pytest.fail)["state"] == {"steps": 2}
    (tmp_path / RESUME_FILE).write_bytes(b"PK\x03\x04 not a whole zip")
    warnings: list[str] = []
    assert load_resume(tmp_path, warnings.append)["state"] == {"steps": 1}
    assert len(warnings) == 1 and "resume.pt is damaged" in warnings[0]
    assert "using resume.prev.pt" in warnings[0]
    (tmp_path / PREVIOUS_RESUME_FILE).write_bytes(b"")
    assert load_resume(tmp_path, warnings.append) is None and len(warnings) == 3  # Start over.
    assert "starting over" in warnings[-1]


def test_a_stop_request_checkpoints_then_interrupts() -> None:
    class StopAfterTen(LogOnlyHooks):
        def __init__(self) -> None:
            super().__init__(lambda row: None)
            self.saved: list[TrainState] = []
            self.steps = 0

        def save_checkpoint(self, payload: dict[str, Any]) -> None:
            self.saved.append(TrainState.from_dict(payload["state"]))

        def stop_requested(self) -> bool:
            self.steps += 1
            return self.steps >= 10

    data = fakes.Bars(Path("unused"))
    model = fakes.PixelGaussian.build(fakes.Bars.shape)
    hooks = StopAfterTen()
    batches = DeviceBatches(data.load("train"), torch.device("cpu"), seed=0)
    with pytest.raises(Interrupted, match=r"stopped at 0\.32 kimg"):
        spec = TrainingSpec(Budget(kimg=5), Schedule(5))
        train(model, batches, data.load("test"), spec, hooks, SilentProgress())
    assert [(s.steps, s.images_seen) for s in hooks.saved] == [(10, 320)]


def test_looking_at_the_model_during_training_does_not_change_its_training() -> None:
    # Evaluation that draws from the global generators (as torch-fidelity's DataLoader does, only when
    # its cache is cold) must leave training exactly as it would have been.
    class Noisy(fakes.PixelGaussian):
        def train_step(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
            return super().train_step(images + 0.1 * torch.randn_like(images), labels)

    class DrawingHooks(LogOnlyHooks):
        def evaluate(self, model: object) -> dict[str, float]:
            random.random(), np.random.rand(), torch.rand(5)
            return {"eval/x": 1.0}

        def snapshot(self, model: object) -> torch.Tensor:
            torch.rand(3)
            return super().snapshot(model)

    def trained(hooks: LogOnlyHooks, schedule: Schedule) -> dict[str, torch.Tensor]:
        data = fakes.Bars(Path("unused"))
        torch.manual_seed(0)
        model = Noisy.build(fakes.Bars.shape)
        batches = DeviceBatches(data.load("train"), torch.device("cpu"), seed=0)
        train(
            model, batches, data.load("test"), TrainingSpec(Budget(kimg=2), schedule), hooks, SilentProgress()
        )
        return model.state_dict()

    plain = trained(LogOnlyHooks(lambda row: None), Schedule(5))
    looked_at = trained(DrawingHooks(lambda row: None), Schedule(5, eval_every_kimg=0.3))
    assert all(torch.equal(plain[k], looked_at[k]) for k in plain)


def test_a_payload_restores_what_it_saved_and_one_that_does_not_fit_is_unrestorable() -> None:
    data = fakes.Bars(Path("unused"))
    model = fakes.PixelGaussian.build(fakes.Bars.shape)
    batches = DeviceBatches(data.load("train"), torch.device("cpu"), seed=0)
    state = TrainState(steps=3, images_seen=96, best={"value": 1.5, "kimg": 0.064})
    assert restore(checkpoint_payload(model, batches, state), model, batches) == state
    another = checkpoint_payload(model, batches, state)
    another["state"]["unknown_field"] = 1  # Another genbench's loop state.
    with pytest.raises(Unrestorable, match=r"^the resume checkpoint does not fit this run \(TypeError: "):
        restore(another, model, batches)
