"""``genbench run --track mlflow``: a run becomes an MLflow run (params, metric history, final metrics,
status, artifacts) in a local store and on an ``mlflow server``; a killed run resumes the same MLflow
run with each step once; a server that does not answer is one line before any training."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mlflow import MlflowClient
from typer.testing import CliRunner

from genbench.cli import app

RUN = ["run", "--models", "tiny-gaussian", "--data", "stripes", "--n-samples", "100", "--metrics", "fd_clf"]
TINY = [*RUN, "--kimg", "0.5", "--n-eval", "100", "--quiet"]
HERE = Path(__file__).resolve().parent
AXES = ("step", "kimg", "seconds")


def _rows(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (folder / "train.jsonl").read_text().splitlines()]


def _folder(out: Path) -> Path:
    (folder,) = (out / "runs").iterdir()
    return folder


def _mlflow_run(client: MlflowClient, folder: Path) -> Any:
    """The one MLflow run of the genbench run in ``folder``."""
    experiment = client.get_experiment_by_name("genbench")
    runs = client.search_runs([experiment.experiment_id], f"tags.`genbench.run_id` = '{folder.name}'")
    assert len(runs) == 1, runs
    return runs[0]


def _check_history(client: MlflowClient, run: Any, folder: Path) -> None:
    """Each metric's history is train.jsonl's column: every step once, the same values."""
    expected: dict[str, list[tuple[int, float]]] = {}
    for row in _rows(folder):
        for key, value in row.items():
            if key not in AXES:
                tag = key if "/" in key else f"train/{key}"
                expected.setdefault(tag, []).append((round(row["kimg"] * 1000), value))
    history = {
        key: sorted((point.step, point.value) for point in client.get_metric_history(run.info.run_id, key))
        for key in run.data.metrics
        if not key.startswith("final/")
    }
    assert history == {key: sorted(points) for key, points in expected.items()}


def _check_finished(client: MlflowClient, folder: Path) -> Any:
    run = _mlflow_run(client, folder)
    record = json.loads((folder / "metrics.json").read_text())
    assert run.info.status == "FINISHED" and run.info.run_name == "stripes / tiny-gaussian / seed 0"
    assert run.data.params["model"] == "tiny-gaussian" and run.data.params["dataset"] == "stripes"
    assert "hparams.lr" in run.data.params and run.data.tags["genbench.seed"] == "0"
    assert run.data.metrics["final/fd_clf_100"] == record["metrics"]["fd_clf_100"]
    _check_history(client, run, folder)
    artifacts = {artifact.path for artifact in client.list_artifacts(run.info.run_id)}
    assert {"samples.png", "progress.png", "metrics.json", "config.json"} <= artifacts
    return run


def test_a_run_becomes_an_mlflow_run_in_a_local_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    result = CliRunner().invoke(app, [*TINY, "--out", str(tmp_path / "results"), "--track", "mlflow"])
    assert result.exit_code == 0, result.output
    _check_finished(MlflowClient(uri), _folder(tmp_path / "results"))


def test_a_tracking_uri_that_does_not_answer_is_one_line_before_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{_free_port()}")
    started = time.monotonic()
    result = CliRunner().invoke(app, [*TINY, "--out", str(tmp_path / "results"), "--track", "mlflow"])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
    assert "error: tracker 'mlflow' (genbench" in result.stderr and "does not answer" in result.stderr
    assert "set MLFLOW_TRACKING_URI" in result.stderr and not (tmp_path / "results" / "runs").exists()
    assert time.monotonic() - started < 60  # No minutes of retries.


def test_a_killed_run_resumes_the_same_mlflow_run_with_each_step_once(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    out = tmp_path / "results"
    command = [sys.executable, "-c", "from genbench.cli import main; main()", *RUN, "--kimg", "4"]
    command += ["--checkpoint-every", "0.5", "--log-every", "1", "--n-eval", "100", "--quiet"]
    command += ["--out", str(out), "--track", "mlflow"]
    path = os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")]))  # tiny_plugin.
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "OMP_NUM_THREADS": "1", "PYTHONPATH": path}
    _kill_after(subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True), out, at_kimg=2.2)
    assert not (_folder(out) / "metrics.json").exists(), "the run ended before it could be killed"
    client = MlflowClient(uri)
    assert _mlflow_run(client, _folder(out)).info.status == "RUNNING"  # Killed: nobody ended it.
    resumed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0 and "resuming at" in resumed.stderr, resumed.stderr
    _check_finished(client, _folder(out))


def _kill_after(process: subprocess.Popen[str], out: Path, at_kimg: float) -> None:
    """kill -9 the run once it logged past ``at_kimg`` with both resume checkpoints on disk; it is
    frozen (SIGSTOP) while its files are looked at, so it dies in the state that was checked."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        process.send_signal(signal.SIGSTOP)
        logs = list(out.glob("runs/*/train.jsonl"))
        folder = logs[0].parent if logs else out
        ready = (
            bool(logs)
            and (folder / "resume.pt").exists()
            and (folder / "resume.prev.pt").exists()
            and not list(folder.glob(".resume.pt.*"))
            and _rows(folder)[-1]["kimg"] >= at_kimg
        )
        process.send_signal(signal.SIGKILL if ready else signal.SIGCONT)
        if ready:
            break
        time.sleep(0.02)
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """An ``mlflow server`` on 127.0.0.1, stopped (its whole process group) after the test."""
    port = _free_port()
    command = [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--backend-store-uri", f"sqlite:///{tmp_path / 'server.db'}"]
    command += ["--artifacts-destination", str(tmp_path / "server-artifacts"), "--workers", "1"]
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    uri = f"http://127.0.0.1:{port}"
    try:
        _wait_for(uri, process, tmp_path / "server.log")
        yield uri
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        log.close()


def test_a_run_becomes_an_mlflow_run_on_a_server(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", server)
    result = CliRunner().invoke(app, [*TINY, "--out", str(tmp_path / "results"), "--track", "mlflow"])
    assert result.exit_code == 0, result.output
    assert not list(tmp_path.glob("mlruns")) and not list(tmp_path.glob("mlflow.db"))  # All on the server.
    _check_finished(MlflowClient(server), _folder(tmp_path / "results"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(uri: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 180  # Its first start creates the database: slow on a busy machine.
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            with urllib.request.urlopen(f"{uri}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"mlflow server did not answer within 3 minutes: {log.read_text()[-2000:]}")
