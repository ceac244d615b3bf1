"""Packs (``--pack``): the seeds of a model trained together in one process, each exactly as alone.

On the CPU a packed run and the same run alone are bitwise equal: the same folder, metrics, weights
and training log. A pack stopped by a signal, or killed with SIGKILL, resumes to that same result."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import torch
from caches import session_cache
from signals import signal_when_ready
from typer.testing import CliRunner

from genbench.api import DataShape, Model
from genbench.cli import app
from genbench.core.files import read_jsonl
from genbench.core.layout import RESUME_FILE
from genbench.core.progress import ProgressSink
from genbench.running.packing import PackProgress, pack_size, packs

runner = CliRunner()
SEEDS = "0,1,2,3"
# A tiny budget, the cheap metric every tenth of it (best.pt), the metrics of every kind of work:
# feature statistics, a bootstrap, an estimator trained at evaluation time.
TINY = [
    "run", "--models", "dcgan", "--data", "digits", "--kimg", "0.3", "--eval-every", "0.1",
    "--n-eval", "100", "--n-samples", "200", "--metrics", "fd_clf,kid_clf,jsd_clf",
    "--divergence-steps", "20", "--bootstrap", "20", "--quiet", "--no-report",
]  # fmt: skip


def _records(out: Path) -> dict[str, dict[str, Any]]:
    """Each run's record by its folder name."""
    return {d.name: json.loads((d / "metrics.json").read_text()) for d in (out / "runs").iterdir()}


def _logs(run: Path) -> list[dict[str, Any]]:
    """The training log without its wall-clock seconds."""
    return [{k: v for k, v in row.items() if k != "seconds"} for row in read_jsonl(run / "train.jsonl")]


@pytest.fixture(scope="module")
def packed_and_alone(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    env = {
        "GENBENCH_NO_DOWNLOAD": "1",
        "GENBENCH_DISABLE_PLUGIN_AUTOLOAD": None,
        "GENBENCH_CACHE_DIR": str(session_cache(tmp_path_factory)),
        "GENBENCH_DATA_ROOT": str(tmp_path_factory.mktemp("data-root")),
    }
    folders = []
    for pack in ("4", "1"):
        out = tmp_path_factory.mktemp(f"pack{pack}")
        result = runner.invoke(app, [*TINY, "--seeds", SEEDS, "--pack", pack, "--out", str(out)], env=env)
        assert result.exit_code == 0, result.output
        folders.append(out)
    return folders[0], folders[1]


def test_four_seeds_packed_train_exactly_as_alone(packed_and_alone: tuple[Path, Path]) -> None:
    packed, alone = packed_and_alone
    ours, theirs = _records(packed), _records(alone)
    assert sorted(ours) == sorted(theirs) and len(ours) == 4  # The same run folders: same identities.
    for name, record in ours.items():
        expected = theirs[name]
        assert record["status"] == expected["status"] == "finished"
        assert record["metrics"] == expected["metrics"]  # Every value and interval end, exactly.
        assert record["files"] == expected["files"]  # The final and best weights, by SHA-256.
        assert record["during_training"] == expected["during_training"]
        assert _logs(packed / "runs" / name) == _logs(alone / "runs" / name)


def test_the_record_says_which_pack_a_run_trained_in(packed_and_alone: tuple[Path, Path]) -> None:
    packed, alone = packed_and_alone
    assert {json.dumps(r["pack"]) for r in _records(packed).values()} == {
        json.dumps({"seeds": [0, 1, 2, 3], "size": 4})
    }
    assert all(r["pack"] is None for r in _records(alone).values())


def test_the_seeds_differ_within_a_pack(packed_and_alone: tuple[Path, Path]) -> None:
    """Each seed keeps its own weights and noise: four different models, not one copied."""
    values = {r["metrics"]["fd_clf_200"] for r in _records(packed_and_alone[0]).values()}
    assert len(values) == 4


def test_a_seed_left_to_train_beside_finished_ones_trains_alone(
    packed_and_alone: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    """Seeds 0-3 are reused; seed 4, all that is left of the pack, trains as a run alone."""
    packed = shutil.copytree(packed_and_alone[0], tmp_path / "results")
    env = {"GENBENCH_NO_DOWNLOAD": "1", "GENBENCH_CACHE_DIR": str(session_cache(tmp_path_factory))}
    command = [*TINY, "--seeds", f"{SEEDS},4", "--pack", "5", "--out", str(packed)]
    result = runner.invoke(app, command, env={**env, "GENBENCH_DISABLE_PLUGIN_AUTOLOAD": None})
    assert result.exit_code == 0, result.output
    assert result.stderr.count("already finished, reusing its record") == 4
    assert "training together" not in result.stderr
    records = [r for r in _records(packed).values() if r["seed"] == 4]
    assert len(records) == 1 and records[0]["status"] == "finished" and records[0]["pack"] is None


# Resume: a pack killed (SIGKILL) or stopped (SIGTERM) mid-training and run again.
RESUMABLE = [
    "run", "--models", "dcgan", "--data", "digits", "--kimg", "8", "--checkpoint-every", "0.5",
    "--eval-every", "4", "--n-eval", "100", "--n-samples", "200", "--log-every", "1",
    "--metrics", "fd_clf,kid_clf,jsd_clf", "--divergence-steps", "20", "--seeds", "0,1", "--quiet",
    "--no-report",
]  # fmt: skip


@pytest.fixture(scope="module")
def process_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One thread in every process: the same float reductions, so exact comparisons hold."""
    return {
        **os.environ,
        "GENBENCH_CACHE_DIR": str(session_cache(tmp_path_factory)),
        "GENBENCH_NO_DOWNLOAD": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


def _command(out: Path, pack: str) -> list[str]:
    main = "from genbench.cli import main; main()"
    return [sys.executable, "-c", main, *RESUMABLE, "--pack", pack, "--out", str(out)]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, process_env: dict[str, str]) -> Path:
    """The two seeds trained alone, never stopped."""
    out = tmp_path_factory.mktemp("reference")
    done = subprocess.run(_command(out, "1"), env=process_env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    return out


def _both_checkpointed(out: Path, at_kimg: float) -> bool:
    """Both runs trained past ``at_kimg`` with a resume checkpoint complete on disk."""
    runs = list((out / "runs").glob("*")) if (out / "runs").is_dir() else []
    if len(runs) != 2:
        return False
    for run in runs:
        log = run / "train.jsonl"
        if not (run / RESUME_FILE).is_file() or list(run.glob(".resume.pt.*")) or not log.is_file():
            return False
        rows = read_jsonl(log)
        if not rows or rows[-1]["kimg"] < at_kimg:
            return False
    return True


def _start_and_signal(out: Path, env: dict[str, str], sig: int, at_kimg: float) -> int:
    """Start a packed run and send ``sig`` once both seeds have checkpoints past ``at_kimg``; returns
    its exit status."""
    return signal_when_ready(
        _command(out, "2"), env, sig, partial(_both_checkpointed, out, at_kimg), timeout=600
    )[0]


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "sigterm"])
def test_a_stopped_pack_resumes_to_the_result_of_each_seed_alone(
    tmp_path: Path, process_env: dict[str, str], reference: Path, sig: int
) -> None:
    out = tmp_path / "results"
    code = _start_and_signal(out, process_env, sig, at_kimg=2.0)
    assert code == (-signal.SIGKILL if sig == signal.SIGKILL else 128 + signal.SIGTERM)
    assert not any((run / "metrics.json").exists() for run in (out / "runs").iterdir())  # Stopped mid-way.
    done = subprocess.run(_command(out, "2"), env=process_env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    ours, theirs = _records(out), _records(reference)
    assert sorted(ours) == sorted(theirs)
    for name, record in ours.items():
        assert record["resumed_at_kimg"], f"{name} did not resume"
        assert record["metrics"] == theirs[name]["metrics"]
        assert record["files"] == theirs[name]["files"]
        assert _logs(out / "runs" / name) == _logs(reference / "runs" / name)


# The pieces: how packs are cut and sized, and their one progress bar.


class _Job:
    """What packs() and pack_size() read of a job."""

    def __init__(self, model: str, seed: int, setup: str = "s", packable: bool = True) -> None:
        self.spec = type("Spec", (), {"dataset": "digits", "model": model, "seed": seed, "setup": setup})
        self.model_entry = type("Entry", (), {"name": model, "cls": type("M", (), {"packable": packable})})
        self.run_id = f"{model}-{seed}-{setup}"


def test_packs_hold_consecutive_seeds_of_one_model_and_setup_in_order() -> None:
    jobs: list[Any] = [_Job("dcgan", s) for s in range(5)] + [_Job("vae", 0), _Job("vae", 1, setup="t")]
    cut = packs(jobs, lambda group: 2)
    assert [[job.run_id for job in pack] for pack in cut] == [
        ["dcgan-0-s", "dcgan-1-s"], ["dcgan-2-s", "dcgan-3-s"], ["dcgan-4-s"], ["vae-0-s"], ["vae-1-t"],
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("option", "seeds", "packable", "expected"),
    [
        ("auto", 4, True, 1),  # A CPU: one at a time.
        ("3", 4, True, 3),
        ("8", 4, True, 4),  # No more than the seeds there are.
        ("1", 4, True, 1),
        ("4", 4, False, 1),  # Not packable.
    ],
)
def test_pack_size_on_a_cpu(option: str, seeds: int, packable: bool, expected: int) -> None:
    size, reason = pack_size(option, torch.device("cpu"), _Job("m", 0, packable=packable), seeds)  # type: ignore[arg-type]
    assert size == expected
    assert (reason is not None) == (not packable)
    if not packable:
        assert "does not declare packable" in reason


class _Bar(ProgressSink):
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def start(self, label: str, total: float, unit: str = "kimg", done: float = 0.0) -> None:
        self.calls.append(("start", label, total, done))

    def update(self, done: float, steps: int, logs: dict[str, float] | None = None) -> None:
        self.calls.append(("update", done, steps))

    def stop(self) -> None:
        self.calls.append(("stop",))


def test_a_pack_shows_one_bar_at_its_least_advanced_run() -> None:
    bar = _Bar()
    pack = PackProgress(bar, "digits/dcgan seeds 0,1")
    first, second = pack.member(0), pack.member(1)
    first.start("ignored", 10.0, done=2.0)
    second.start("ignored", 10.0, done=1.0)  # A run resumed from an earlier checkpoint.
    first.update(3.0, 30)
    second.update(2.0, 20)  # Not the pack's first open run: no update of its own.
    first.stop()
    second.update(4.0, 40)  # Now the first open run.
    second.stop()
    assert bar.calls == [
        ("start", "digits/dcgan seeds 0,1", 10.0, 2.0),
        ("update", 1.0, 30),
        ("update", 4.0, 40),
        ("stop",),
    ]


class _Shared(Model):
    """Keeps a step counter on the class: seeds stepped in turn change each other's training."""

    name = "shared-counter"
    packable = True
    count = 0

    def __init__(self, shape: DataShape, hparams: Any) -> None:
        super().__init__(shape, hparams)
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.optimizers["sgd"] = torch.optim.SGD([self.weight], lr=0.1)

    def train_step(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        type(self).count += 1
        loss = (self.weight - type(self).count) ** 2
        self.optimizers["sgd"].zero_grad()
        loss.backward()
        self.optimizers["sgd"].step()
        return {"loss": loss.detach()}

    def sample(self, n: int, generator: torch.Generator, labels: torch.Tensor | None = None) -> torch.Tensor:
        return torch.zeros(n, *self.shape.image_shape)


def test_check_packing_finds_state_kept_outside_the_model() -> None:
    from genbench.testing import ContractError, check_packing

    with pytest.raises(ContractError, match=r"packing.*keep every training state in the model instance"):
        check_packing(_Shared, DataShape(1, 8, 2))
