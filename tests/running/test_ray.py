"""The Ray executor: the same runs, folders and metrics as the local one, on a Ray instance this module
starts on this machine (and shuts down); a killed worker's run resumes from its checkpoint; a model's
own failure is recorded once, not retried; Ray missing or misconfigured is one line, exit 2."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from caches import session_cache
from ray_models import PIDS_ENV
from typer.testing import CliRunner

from genbench.cli import app
from genbench.errors import UserError
from genbench.options.config import resolve_options
from genbench.options.suite import load_suite

runner = CliRunner()
HAS_RAY = importlib.util.find_spec("ray") is not None
needs_ray = pytest.mark.skipif(not HAS_RAY, reason="Ray is not installed (pip install 'genbench[ray]')")
pytestmark = pytest.mark.usefixtures("one_thread", "plugins")  # One torch thread, as each Ray task has.
TESTS = Path(__file__).resolve().parents[1]
POSITIVE = "a positive number (fractions allowed)"
SWEEP = ["--models", "pixel-gaussian,slow-gaussian", "--seeds", "0,1"]


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENBENCH_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("GENBENCH_PLUGINS", "fakes,ray_models")
    monkeypatch.setenv("COLUMNS", "200")


@pytest.fixture(scope="module")
def pids(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the fake models of ray_models note the process they run in."""
    return tmp_path_factory.mktemp("pids")


LOOPBACK_ONLY_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"  # 0: a single-machine Ray on 127.0.0.1.


@pytest.fixture(scope="module")
def cluster(pids: Path) -> Iterator[None]:
    """A Ray instance on this machine, 2 CPUs, no dashboard; its workers import the test plugins."""
    if not HAS_RAY:
        pytest.skip("Ray is not installed (pip install 'genbench[ray]')")
    import ray

    path = os.pathsep.join(filter(None, [str(TESTS), str(TESTS / "running"), os.environ.get("PYTHONPATH")]))
    env = {"PYTHONPATH": path, "OMP_NUM_THREADS": "1", PIDS_ENV: str(pids)}
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # Offline: no usage report.
    # Loopback only: on Linux Ray swaps 127.0.0.1 for the machine's address unless it is told this is
    # not a cluster (the switch is read when ray is imported, so the constant is set too).
    os.environ[LOOPBACK_ONLY_ENV] = "0"
    ray._private.ray_constants.ENABLE_RAY_CLUSTER = False
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        address="local",
        _node_ip_address="127.0.0.1",
        log_to_driver=False,
        runtime_env={"env_vars": env},
    )
    try:
        assert {node["NodeManagerAddress"] for node in ray.nodes()} == {"127.0.0.1"}
        yield
    finally:
        ray.shutdown()
        os.environ.pop(LOOPBACK_ONLY_ENV, None)


def _run(out: Path, *args: str) -> object:
    tiny = ["--data", "bars", "--kimg", "1", "--n-samples", "100", "--metrics", "fd_clf", "--quiet"]
    return runner.invoke(app, ["run", *tiny, "--out", str(out), *args])


def _records(out: Path) -> dict[str, dict]:
    records = (json.loads(path.read_text()) for path in (out / "runs").glob("*/metrics.json"))
    return {record["run_id"]: record for record in records}


@pytest.fixture(scope="module")
def local_sweep(tmp_path_factory: pytest.TempPathFactory, one_thread: None) -> Path:
    """The sweep done by the local executor (module-wide: built before function fixtures set the env)."""
    out = tmp_path_factory.mktemp("local")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GENBENCH_NO_DOWNLOAD", "1")
        patch.setenv("GENBENCH_CACHE_DIR", str(session_cache(tmp_path_factory)))
        patch.setenv("GENBENCH_DISABLE_PLUGIN_AUTOLOAD", "1")
        patch.setenv("GENBENCH_PLUGINS", "fakes,ray_models")
        result = _run(out, *SWEEP)
    assert result.exit_code == 0, result.output
    return out


@needs_ray
def test_a_ray_sweep_writes_what_a_local_one_does(cluster: None, local_sweep: Path, tmp_path: Path) -> None:
    out = tmp_path / "ray"
    result = _run(out, *SWEEP, "--executor", "ray")
    assert result.exit_code == 0, result.output
    local, remote = _records(local_sweep), _records(out)
    assert sorted(remote) == sorted(local) and len(remote) == 4  # The same run folders.
    for run_id, record in remote.items():
        assert record["status"] == "finished" and record["node"]
        assert record["metrics"] == local[run_id]["metrics"]  # Identical on CPU with the same seeds.
        assert record["final_logs"] == local[run_id]["final_logs"]
    timing = [c for c in pd.read_csv(out / "leaderboard.csv").columns if "seconds" in c]
    boards = [pd.read_csv(o / "leaderboard.csv").drop(columns=timing) for o in (local_sweep, out)]
    pd.testing.assert_frame_equal(*boards)
    # A rerun with the other executor reuses every run.
    again = _run(out, *SWEEP)
    assert again.exit_code == 0 and again.stderr.count("already finished, reusing its record") == 4


@needs_ray
def test_a_pack_is_one_ray_task_and_writes_what_each_seed_alone_does(
    cluster: None, local_sweep: Path, pids: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ray-packs"
    result = _run(out, *SWEEP, "--executor", "ray", "--pack", "2")
    assert result.exit_code == 0, result.output
    local, remote = _records(local_sweep), _records(out)
    assert sorted(remote) == sorted(local) and len(remote) == 4
    for run_id, record in remote.items():
        assert record["pack"] == {"size": 2, "seeds": [0, 1]}
        assert record["metrics"] == local[run_id]["metrics"]  # Each seed exactly as alone.
        assert record["final_logs"] == local[run_id]["final_logs"]


@needs_ray
def test_trackers_write_from_the_workers(
    cluster: None, local_sweep: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("tensorboard")
    from tensorboard_events import events, expected_series, scalar_series

    monkeypatch.setenv("GENBENCH_PLUGINS", "fakes,ray_models,genbench_builtin.trackers")
    out = tmp_path / "ray"
    result = _run(
        out, "--models", "pixel-gaussian", "--seeds", "0,1", "--executor", "ray", "--track", "tensorboard"
    )
    assert result.exit_code == 0, result.output
    for run_id, record in _records(out).items():
        assert (
            record["metrics"] == _records(local_sweep)[run_id]["metrics"] and not record["tracker_failures"]
        )
        folder = out / "runs" / run_id
        (event_file,) = folder.glob("events.out.tfevents.*")
        assert int(event_file.name.rsplit(".", 2)[1]) != os.getpid()  # Written by the worker, not here.
        rows = [json.loads(line) for line in (folder / "train.jsonl").read_text().splitlines()]
        assert scalar_series(events(folder), ("train/", "test/", "eval/")) == expected_series(rows)


@needs_ray
def test_a_killed_worker_costs_only_the_work_since_its_checkpoint(
    cluster: None, local_sweep: Path, pids: Path, tmp_path: Path
) -> None:
    out, noted = tmp_path / "ray", pids / "slow-gaussian"
    noted.unlink(missing_ok=True)
    killed: list[int] = []

    def kill_the_worker_after_its_first_checkpoint() -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not killed:
            if list((out / "runs").glob("*/resume.pt")) and noted.exists():
                pid = int(noted.read_text().split()[0])
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            time.sleep(0.02)

    killer = threading.Thread(target=kill_the_worker_after_its_first_checkpoint)
    killer.start()
    result = _run(out, "--models", "slow-gaussian", "--checkpoint-every", "0.2", "--executor", "ray")
    killer.join()
    assert killed, "the worker was never killed"
    assert result.exit_code == 0, result.output
    (record,) = _records(out).values()
    assert len(noted.read_text().split()) == 2  # Ray ran the task again, in another worker.
    assert record["status"] == "finished" and record["resumed_at_kimg"]  # From its checkpoint.
    assert 0 < record["resumed_at_kimg"][0] < 1
    assert record["metrics"] == _records(local_sweep)[record["run_id"]]["metrics"]  # As if never killed.
    # Said in one line; Ray's own message (colour codes, "(raylet) Task run_task failed") in its log.
    assert "a Ray worker died during a run; Ray runs it again (2 retries left)" in result.stderr
    assert "(raylet)" not in result.output and "Worker exit type" not in result.output


@needs_ray
def test_a_lost_cluster_is_one_line_saying_what_was_saved_and_ray_logs_stay_in_their_folder(
    pids: Path, tmp_path: Path
) -> None:
    """The head of a Ray the driver started dies mid-sweep (what `ray stop` does; here only this
    driver's own GCS and raylet are killed, not another Ray on the machine): one line, exit 2, the
    checkpoint kept, none of Ray's C++ logs on the terminal."""
    out = tmp_path / "results"
    driver = _driver(out, "--models", "slow-gaussian", "--checkpoint-every", "0.2", "--executor", "ray")
    started: list[int] = []  # Ray's processes, noted before their parents die and they are orphaned.
    try:
        deadline = time.monotonic() + 300
        while not list(out.glob("runs/*/resume.pt")) and driver.poll() is None:
            assert time.monotonic() < deadline, "no checkpoint in 300 s"
            time.sleep(0.1)
        started = _descendants(driver.pid)
        heads = [pid for pid in started if _name(pid) in ("gcs_server", "raylet")]
        assert len(heads) == 2, heads
        for pid in heads:
            os.kill(pid, signal.SIGKILL)
        stdout, stderr = driver.communicate(timeout=120)
    finally:
        for pid in [*started, *_descendants(driver.pid), driver.pid]:  # Only what this test started.
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    assert driver.returncode == 2, stdout + stderr
    last = stderr.splitlines()[-1]
    assert last.startswith("error: the Ray cluster at 127.0.0.1:") and "the same command to resume" in last
    for raw in ("rpc_client", "logging.cc", "PC: @", "*** ", "Traceback", "(raylet)"):
        assert raw not in stdout + stderr, stdout + stderr
    # What was saved stays: a checkpoint to resume from, or the record, if the orphaned worker finished.
    assert list(out.glob("runs/*/resume.pt")) or list(out.glob("runs/*/metrics.json"))


def _driver(out: Path, *args: str) -> subprocess.Popen[str]:
    """``genbench run`` in a process of its own, which starts (and owns) its Ray."""
    root = TESTS.parent
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(map(str, [root, root / "plugins", TESTS, TESTS / "running"])),
        "GENBENCH_PLUGINS": "fakes,ray_models",
        "GENBENCH_DISABLE_PLUGIN_AUTOLOAD": "1",
        "OMP_NUM_THREADS": "1",
        "RAY_USAGE_STATS_ENABLED": "0",
        LOOPBACK_ONLY_ENV: "0",
    }
    tiny = ["--data", "bars", "--kimg", "1", "--n-samples", "100", "--metrics", "fd_clf", "--quiet"]
    command = [sys.executable, "-c", "from genbench.cli import main; main()", "run", *tiny, *args]
    return subprocess.Popen(
        [*command, "--out", str(out)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _descendants(pid: int) -> list[int]:
    """The processes ``pid`` started, and theirs (from /proc)."""
    children = []
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError, ValueError, IndexError):
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                children += [int(entry.name), *_descendants(int(entry.name))]
    return children


def _name(pid: int) -> str:
    with contextlib.suppress(OSError):
        return (Path("/proc") / str(pid) / "comm").read_text().strip()
    return ""


@needs_ray
def test_resources_no_node_has_are_one_line(cluster: None, tmp_path: Path) -> None:
    out = tmp_path / "results"
    result = _run(out, "--models", "pixel-gaussian", "--executor", "ray", "--cpus-per-run", "64")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
    assert "--cpus-per-run 64: no node of the Ray cluster has that many CPUs (the most on one node is 2)" in (
        result.stderr
    )
    gpus = _run(out, "--models", "pixel-gaussian", "--executor", "ray", "--gpus-per-run", "1")
    assert gpus.exit_code == 2 and "runs train on CPUs here" in gpus.stderr, gpus.output
    assert not (out / "runs").exists()


@needs_ray
def test_a_model_that_raises_is_recorded_failed_once_and_the_others_finish(
    cluster: None, pids: Path, tmp_path: Path
) -> None:
    out, noted = tmp_path / "ray", pids / "raises-once"
    noted.unlink(missing_ok=True)
    result = _run(out, "--models", "raises-once,pixel-gaussian", "--executor", "ray")
    assert result.exit_code == 1, result.output
    records = {record["model"]: record for record in _records(out).values()}
    assert records["pixel-gaussian"]["status"] == "finished"
    failed = records["raises-once"]
    assert failed["status"] == "failed"
    assert "raised RuntimeError: index out of range in the decoder" in failed["error"]
    assert (out / "runs" / failed["run_id"] / "error.log").read_text().count("Traceback") == 1
    assert len(noted.read_text().split()) == 1  # Not retried.
    assert "1 of 2 runs did not finish:" in result.stderr and "Traceback" not in result.output


def test_without_ray_the_ray_executor_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError.
    out = tmp_path / "results"
    result = _run(out, "--models", "pixel-gaussian", "--executor", "ray")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: --executor ray needs Ray, which is not installed: pip install 'genbench[ray]'\n"
    )
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--gpus-per-run", "0"], f"error: --gpus-per-run must be {POSITIVE}, got 0.0"),
        (["--gpus-per-run", "-1"], f"error: --gpus-per-run must be {POSITIVE}, got -1.0"),
        (["--cpus-per-run", "0"], f"error: --cpus-per-run must be {POSITIVE}, got 0.0"),
        pytest.param(
            ["--ray-address", "127.0.0.1:1"],
            "error: no Ray cluster answers at --ray-address 127.0.0.1:1 (Connection refused); start one with "
            "`ray start --head`, or leave --ray-address out to start one on this machine",
            marks=needs_ray,
        ),
        pytest.param(
            ["--ray-address", "headnode"],
            "error: --ray-address must be HOST:PORT of a Ray head node (e.g. 10.0.0.1:6379), got 'headnode'",
            marks=needs_ray,
        ),
    ],
)
def test_a_wrong_ray_option_is_one_line_and_writes_nothing(
    args: list[str], message: str, tmp_path: Path
) -> None:
    out = tmp_path / "results"
    result = _run(out, "--models", "pixel-gaussian", "--executor", "ray", *args)
    assert result.exit_code == 2
    assert result.stderr == message + "\n"
    assert not out.exists()


def test_a_worker_that_cannot_see_the_drivers_folders_fails_its_run_in_one_line(tmp_path: Path) -> None:
    pytest.importorskip("ray", reason="Ray is not installed (pip install 'genbench[ray]')")
    from genbench.running.ray_task import TaskSettings, run_task

    settings = TaskSettings(out=tmp_path / "elsewhere", restart=False, threads=1)
    data = SimpleNamespace(classifier=SimpleNamespace(path=tmp_path / "cache" / "classifier.pt"))
    spec = SimpleNamespace(run_id="run", seed=0)
    ((outcome, why),) = run_task(data, None, None, [spec], settings, None)  # type: ignore[arg-type, list-item]
    assert outcome == "unreachable"
    assert why.endswith(
        f"cannot see {tmp_path / 'elsewhere'}, the --out folder the driver wrote: put the --out folder "
        "and GENBENCH_CACHE_DIR on a filesystem every node shares"
    )


def test_a_suite_names_the_executor_and_its_resources(tmp_path: Path) -> None:
    suite = tmp_path / "sweep.toml"
    suite.write_text('executor = "ray"\nray_address = "10.0.0.1:6379"\ngpus_per_run = 0.5\nmax_retries = 0\n')
    options = resolve_options(load_suite(suite), {"cpus_per_run": 2.0})
    assert (options.executor, options.ray_address, options.gpus_per_run) == ("ray", "10.0.0.1:6379", 0.5)
    assert (options.cpus_per_run, options.max_retries) == (2.0, 0)
    suite.write_text('executor = "slurm"\n')
    with pytest.raises(UserError, match=r"^suite .*: 'executor' must be local or ray, got 'slurm'$"):
        resolve_options(load_suite(suite), {})
