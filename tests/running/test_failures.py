"""Failures are contained: a plugin that raises, diverges, runs out of memory or fails to import costs
its own run (recorded, with the reason), never the sweep or another run's results."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import genbench.running.resume
from genbench.cli import app
from genbench.core.registry import Registry, make_plugin_manager

runner = CliRunner()
pytestmark = pytest.mark.usefixtures("one_thread")  # See conftest.one_thread.


@pytest.fixture
def faulty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENBENCH_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("GENBENCH_PLUGINS", "fakes,faulty")
    monkeypatch.setenv("COLUMNS", "200")


def _run(out: Path, models: str, *extra: str) -> object:
    args = ["run", "--models", models, "--data", "bars", "--kimg", "1", "--n-samples", "200", "--quiet"]
    return runner.invoke(app, [*args, "--metrics", "fd_clf", "--out", str(out), *extra])


def _records(out: Path) -> dict[str, dict]:
    records = (json.loads(p.read_text()) for p in (out / "runs").glob("*/metrics.json"))
    return {record["model"]: record for record in records}


def test_a_sweep_goes_on_past_failing_runs_and_exits_1_with_a_summary(faulty: None, tmp_path: Path) -> None:
    out = tmp_path / "results"
    result = _run(out, "raises,pixel-gaussian,goes-nan,out-of-memory,sampling-fails")
    assert result.exit_code == 1, result.output
    records = _records(out)
    assert {model: r["status"] for model, r in records.items()} == {
        "raises": "failed",
        "pixel-gaussian": "finished",  # Ran after a failed run: the sweep went on.
        "goes-nan": "diverged",
        "out-of-memory": "failed",
        "sampling-fails": "failed",
    }
    assert "raised RuntimeError: shape mismatch in layer 3" in records["raises"]["error"]
    assert "faulty" in records["raises"]["error"]  # The plugin is named.
    assert records["goes-nan"]["error"].startswith("loss became non-finite at ")  # Its status says diverged.
    assert "at batch size 32; try --set out-of-memory.batch_size=16" in records["out-of-memory"]["error"]
    assert "ValueError: sampler not implemented" in records["sampling-fails"]["error"]
    traceback = (out / "runs" / records["raises"]["run_id"] / "error.log").read_text()
    assert "Traceback" in traceback and "train_step" in traceback
    assert records["pixel-gaussian"]["metrics"]["fd_clf_200"] > 0

    # The summary names each failure in one line; no traceback reaches the terminal.
    assert "4 of 5 runs did not finish:" in result.stderr and "Traceback" not in result.output
    assert "diverged: diverged" not in result.stderr.lower()  # Issue 19: "DIVERGED: diverged: …".
    assert ": DIVERGED: loss became non-finite at " in result.stderr
    for model in ("raises", "goes-nan", "out-of-memory", "sampling-fails"):
        assert f"-{model}-seed0-" in result.stderr
    # The leaderboard lists every run with its status and error; the finished one keeps its metrics.
    board = pd.read_csv(out / "leaderboard.csv").set_index("model")
    assert board.loc["goes-nan", "status"] == "diverged" and board.loc["raises", "status"] == "failed"
    assert board.loc["raises", "error"].startswith("raises (faulty) raised RuntimeError")
    assert pd.isna(board.loc["raises", "fd_clf_200"]) and board.loc["pixel-gaussian", "fd_clf_200"] > 0


def test_a_rerun_retries_failed_runs_and_keeps_the_rest(faulty: None, tmp_path: Path) -> None:
    out = tmp_path / "results"
    assert _run(out, "raises,goes-nan,pixel-gaussian").exit_code == 1
    finished = _records(out)["pixel-gaussian"]
    again = _run(out, "raises,goes-nan,pixel-gaussian")
    assert again.exit_code == 1
    assert "failed last time; trying again" in again.stderr  # raises: maybe fixed since.
    assert "already diverged, reusing its record" in again.stderr  # Same config, same divergence.
    assert "already finished" in again.stderr
    assert _records(out)["pixel-gaussian"] == finished


def _write_module(folder: Path, name: str, body: str) -> None:
    (folder / f"{name}.py").write_text(textwrap.dedent(body))


def test_a_plugin_that_fails_to_import_is_reported_and_the_rest_load(
    faulty: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_module(tmp_path, "broken_plugin", "import numpy\nraise ImportError('needs tensorflow')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("GENBENCH_PLUGINS", "fakes,broken_plugin")
    registry = Registry.discover()
    broken = [(b.name, b.error) for b in registry.broken]
    assert broken == [("broken_plugin", "ImportError: needs tensorflow")]
    assert "pixel-gaussian" in registry.models

    listing = runner.invoke(app, ["plugins"])
    assert listing.exit_code == 0
    assert "broken_plugin" in listing.stdout and "BROKEN: ImportError: needs tensorflow" in listing.stdout
    # Asking for a model the broken plugin might have held says why it may be missing.
    unknown = runner.invoke(app, ["run", "--models", "tf-gan"])
    assert unknown.exit_code == 2
    assert unknown.stderr.count("\n") == 1
    failed = "plugin broken_plugin (broken_plugin) failed to load: ImportError: needs tensorflow"
    assert failed in unknown.stderr
    # A run of the healthy plugins works and warns once.
    done = _run(tmp_path / "results", "pixel-gaussian")
    assert done.exit_code == 0, done.output
    assert "warning: plugin broken_plugin (broken_plugin) failed to load" in done.stderr


def test_a_broken_entry_point_does_not_stop_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A real installed distribution on sys.path whose entry point module fails while importing.
    dist = tmp_path / "genbench_tf-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: genbench-tf\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[genbench]\ntf_models = genbench_tf_models\n")
    _write_module(tmp_path, "genbench_tf_models", "raise RuntimeError('CUDA driver too old')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("GENBENCH_PLUGINS", raising=False)
    pm = make_plugin_manager(autoload=True)
    assert [(b.name, b.distribution, b.version, b.error) for b in pm.broken] == [
        ("tf_models", "genbench-tf", "1.0", "RuntimeError: CUDA driver too old")
    ]
    registry = Registry.from_plugin_manager(pm)
    assert {"dcgan", "vae"} <= set(registry.models)  # The built-ins still load.
    assert sys.modules.get("genbench_tf_models") is None


def test_a_registration_hook_that_raises_makes_its_plugin_broken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_module(
        tmp_path,
        "hook_raises",
        """
        from genbench import hookimpl

        @hookimpl
        def register_models():
            raise KeyError("config")
        """,
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("GENBENCH_PLUGINS", "fakes,hook_raises")
    registry = Registry.discover(autoload=False)
    assert [(b.name, b.error) for b in registry.broken] == [("hook_raises", "KeyError: 'config'")]
    assert set(registry.models) == {"pixel-gaussian"}


def test_a_dataset_plugin_that_raises_is_one_line_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_module(
        tmp_path,
        "bad_data",
        """
        from fakes import Bars
        from genbench import hookimpl

        class Flaky(Bars):
            name = "flaky"

            def load(self, split):
                raise OSError("disk quota exceeded")

        @hookimpl
        def register_datasets():
            return [Flaky]
        """,
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("GENBENCH_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("GENBENCH_PLUGINS", "fakes,bad_data")
    out = tmp_path / "results"
    result = runner.invoke(app, ["run", "--models", "pixel-gaussian", "--data", "flaky", "--out", str(out)])
    assert result.exit_code == 2
    assert result.stderr == (
        "error: dataset 'flaky' (bad_data) failed to load: OSError: disk quota exceeded\n"
    )
    assert not (out / "runs").exists()


def test_two_processes_share_one_output_folder(tmp_path: Path) -> None:
    out = tmp_path / "results"
    tests = Path(__file__).parents[1]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(tests), os.environ.get("PYTHONPATH")])),
        "GENBENCH_DISABLE_PLUGIN_AUTOLOAD": "1",
        "GENBENCH_PLUGINS": "fakes",
        "OMP_NUM_THREADS": "1",
    }
    args = ["--models", "pixel-gaussian", "--data", "bars", "--seeds", "0,1,2,3", "--kimg", "3"]
    command = [sys.executable, "-c", "from genbench.cli import main; main()", "run", *args]
    command += ["--n-samples", "200", "--metrics", "fd_clf", "--quiet", "--out", str(out)]
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True, "env": env}
    processes = [subprocess.Popen(command, **pipes) for _ in range(2)]
    outputs = [process.communicate(timeout=600) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    stderr = "".join(err for _, err in outputs)
    assert stderr.count(": done in ") == 4  # Every run trained exactly once, by one of the two.
    assert "fd_clf_200=" in stderr and "fd_clf_200_lo=" not in stderr  # The line gives values, not ends.
    records = [json.loads(p.read_text()) for p in (out / "runs").glob("*/metrics.json")]
    assert sorted(r["seed"] for r in records) == [0, 1, 2, 3]
    assert all(r["status"] == "finished" and r["metrics"]["fd_clf_200"] > 0 for r in records)
    board = pd.read_csv(out / "leaderboard.csv")
    assert sorted(board["seed"].dropna()) == [0, 1, 2, 3] and len(board) == 5  # And the floor.
    for record in records:  # Each log was written by one process, once: steps only go up.
        log = out / "runs" / record["run_id"] / "train.jsonl"
        steps = [json.loads(line)["step"] for line in log.read_text().splitlines()]
        assert steps == sorted(steps) and len(steps) - len(set(steps)) <= 1  # The closing row may repeat.


@pytest.mark.parametrize(
    ("images", "labels", "message"),
    [
        (
            "torch.rand(20, 1, 8, 8)",
            "torch.zeros(20).long()",
            "images must be a uint8 tensor, got torch.float32",
        ),
        (
            "torch.zeros(20, 3, 8, 8, dtype=torch.uint8)",
            "torch.zeros(20).long()",
            "images must be (N, 1, 8, 8), got (20, 3, 8, 8)",
        ),
        ("torch.zeros(20, 1, 8, 8, dtype=torch.uint8)", "torch.full((20,), 7)", "labels must lie in [0, 2]"),
    ],
)
def test_a_dataset_plugin_with_wrong_images_is_refused_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, images: str, labels: str, message: str
) -> None:
    _write_module(
        tmp_path,
        "wrong_data",
        f"""
        import torch
        from fakes import Bars
        from genbench import Split, hookimpl

        class Wrong(Bars):
            name = "wrong"

            def load(self, split):
                return Split({images}, {labels})

        @hookimpl
        def register_datasets():
            return [Wrong]
        """,
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("GENBENCH_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("GENBENCH_PLUGINS", "fakes,wrong_data")
    monkeypatch.delitem(sys.modules, "wrong_data", raising=False)  # Each case imports its own version.
    out = tmp_path / "results"
    result = runner.invoke(app, ["run", "--models", "pixel-gaussian", "--data", "wrong", "--out", str(out)])
    assert result.exit_code == 2
    assert result.stderr == f"error: dataset 'wrong' (wrong_data), train split: {message}\n"
    assert not out.exists()


def test_a_full_disk_stops_the_sweep_in_one_line_and_a_rerun_resumes(
    faulty: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "results"
    real_write = genbench.running.resume.atomic_write
    written: list[Path] = []

    def disk_fills_up(path: Path, write) -> None:
        # Seed 1's third checkpoint finds the disk full half way through its bytes.
        if "-seed1-" in str(path) and len(written) == 2:

            def half_then_enospc(f) -> None:
                f.write(b"\0" * 1000)
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # As write() does.

            real_write(path, half_then_enospc)
        if "-seed1-" in str(path):
            written.append(path)
        real_write(path, write)

    monkeypatch.setattr(genbench.running.resume, "atomic_write", disk_fills_up)
    result = _run(out, "pixel-gaussian", "--seeds", "0,1", "--checkpoint-every", "0.2")
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines()[-1].startswith("error: no space left on device writing ")
    assert "-seed1-" in result.stderr.splitlines()[-1] and "resume.pt" in result.stderr
    assert "run the same command again" in result.stderr and "Traceback" not in result.output
    records = _records(out)
    assert records["pixel-gaussian"]["seed"] == 0 and records["pixel-gaussian"]["status"] == "finished"
    (seed1,) = (p for p in (out / "runs").iterdir() if "-seed1-" in p.name)
    assert not (seed1 / "metrics.json").exists()  # Not recorded as failed: not the model's fault.
    assert not list(seed1.glob(".*.tmp"))  # The half-written file is gone...
    assert (seed1 / "resume.prev.pt").exists()  # ...and the checkpoint before it kept.
    board = pd.read_csv(out / "leaderboard.csv")
    assert list(board[board["model"] == "pixel-gaussian"]["seed"]) == [0]

    # Space freed: the same command reuses seed 0 and resumes seed 1 from its last good checkpoint.
    monkeypatch.setattr(genbench.running.resume, "atomic_write", real_write)
    again = _run(out, "pixel-gaussian", "--seeds", "0,1", "--checkpoint-every", "0.2")
    assert again.exit_code == 0, again.output
    assert "already finished" in again.stderr and "resuming at 0.4" in again.stderr
    assert json.loads((seed1 / "metrics.json").read_text())["status"] == "finished"
