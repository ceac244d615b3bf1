"""Trackers (``--track``): the runner tells them every row, picture, checkpoint and the end; a tracker
that raises never costs a run; watching never changes a run; bad names are one line before training."""

from __future__ import annotations

import json
import math
import textwrap
import tomllib
from pathlib import Path
from typing import Any

import pytest
import tracking_fakes
from typer.testing import CliRunner

from genbench.cli import app
from genbench.core.files import read_jsonl
from genbench.options.lists import parse_repeated_lists
from genbench.running.trackers import Trackers
from genbench.tracking import RunEnd, TrackedRun

runner = CliRunner()
pytestmark = pytest.mark.usefixtures("one_thread")  # See conftest.one_thread.
RUN = ["run", "--models", "pixel-gaussian", "--data", "bars", "--kimg", "1", "--n-samples", "200"]
PLUGINS = "fakes,tracking_fakes,genbench_builtin.trackers"


@pytest.fixture(autouse=True)
def plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENBENCH_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("GENBENCH_PLUGINS", PLUGINS)
    monkeypatch.setenv("COLUMNS", "200")
    tracking_fakes.CALLS.clear()


def _run(out: Path, *extra: str) -> Any:
    return runner.invoke(app, [*RUN, "--quiet", "--metrics", "fd_clf", "--out", str(out), *extra])


def _folder(out: Path) -> Path:
    (folder,) = (out / "runs").iterdir()
    return folder


def _record(out: Path) -> dict[str, Any]:
    return json.loads((_folder(out) / "metrics.json").read_text())


@pytest.fixture(scope="module")
def untracked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same run without --track."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GENBENCH_DISABLE_PLUGIN_AUTOLOAD", "1")
        patch.setenv("GENBENCH_PLUGINS", PLUGINS)
        out = tmp_path_factory.mktemp("untracked")
        result = _run(out)
    assert result.exit_code == 0, result.output
    return _folder(out)


def test_a_tracker_is_told_every_row_picture_checkpoint_and_the_end(tmp_path: Path) -> None:
    result = _run(tmp_path, "--track", "recorder")
    assert result.exit_code == 0, result.output
    folder, record = _folder(tmp_path), _record(tmp_path)
    assert [name for name, _ in tracking_fakes.CALLS[:1]] == ["start"]
    assert [name for name, _ in tracking_fakes.CALLS[-1:]] == ["end"]
    (run,) = tracking_fakes.calls("start")
    assert (run.run_id, run.folder, run.resumed_at) == (folder.name, folder, None)
    assert run.label == "bars / pixel-gaussian / seed 0"
    written = json.loads((folder / "config.json").read_text())
    assert run.config == {k: v for k, v in written.items() if k != "checksum"}  # The spec, as written.

    rows = read_jsonl(folder / "train.jsonl")
    assert tracking_fakes.calls("log_row") == [(round(row["kimg"] * 1000), row) for row in rows]
    pictures = tracking_fakes.calls("log_images")
    steps = [round(kimg * 1000) for kimg in record["progress_kimg"]]
    assert [step for step, images in pictures if "fixed_latents" in images] == steps
    *_, (last_step, final) = pictures
    assert last_step == steps[-1] and set(final) == {"progress", "samples"}
    assert all(
        image.dtype.is_floating_point is False and image.ndim == 3
        for _, p in pictures
        for image in p.values()
    )
    assert tracking_fakes.calls("checkpointed")[-1] == steps[-1]  # The final checkpoint, at least.

    (end,) = tracking_fakes.calls("end")
    assert end == RunEnd("finished", steps[-1], record["metrics"], None)
    assert record["tracker_failures"] == {}


def test_watching_never_changes_a_run(tmp_path: Path, untracked: Path) -> None:
    # The recorder draws from every global generator at each row: the run must not notice.
    assert _run(tmp_path, "--track", "recorder").exit_code == 0
    assert _folder(tmp_path).name == untracked.name  # The same run folder: not part of the identity.
    record, expected = _record(tmp_path), json.loads((untracked / "metrics.json").read_text())
    assert _same(record["metrics"], expected["metrics"])
    assert _same(record["final_logs"], expected["final_logs"])

    def without_seconds(folder: Path) -> list[dict[str, Any]]:
        return [
            {k: v for k, v in row.items() if k != "seconds"} for row in read_jsonl(folder / "train.jsonl")
        ]

    rows, expected_rows = without_seconds(_folder(tmp_path)), without_seconds(untracked)
    assert len(rows) == len(expected_rows) and all(map(_same, rows, expected_rows))


def _same(values: dict[str, Any], expected: dict[str, Any]) -> bool:
    """The same keys and the same numbers, to 1e-6 relative: a tracker that touched a generator or the
    model would move them by far more. Two runs in one test session may differ in the last digits: the
    feature extractor's float sums (and what the session ran before them) are not bitwise repeatable."""
    return values.keys() == expected.keys() and all(
        math.isclose(value, expected[key], rel_tol=1e-6)
        if isinstance(value, float) and isinstance(expected[key], float)
        else value == expected[key]
        for key, value in values.items()
    )


@pytest.mark.parametrize("method", ["start", "log_row", "end"])
def test_a_tracker_that_raises_never_costs_a_run(tmp_path: Path, untracked: Path, method: str) -> None:
    name = tracking_fakes.RAISING[method].name
    result = _run(tmp_path, "--track", f"{name},recorder")
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if "failed (" in line]
    assert warnings == [
        f"[1/1] warning: {untracked.name}: tracker '{name}' failed ({method}: RuntimeError: the server at "
        f"http://127.0.0.1:9 is gone ({method})); the run goes on without it"
    ]
    record = _record(tmp_path)
    assert record["status"] == "finished"
    assert _same(record["metrics"], json.loads((untracked / "metrics.json").read_text())["metrics"])
    assert record["tracker_failures"] == {
        name: f"{method}: RuntimeError: the server at http://127.0.0.1:9 is gone ({method})"
    }
    assert len(tracking_fakes.calls("end")) == 1  # The other tracker watched the whole run.


@pytest.mark.parametrize(
    ("track", "message"),
    [
        ("tensorbord", "unknown tracker 'tensorbord' (did you mean tensorboard?); available: "),
        ("mlflow", "pip install genbench-mlflow"),
        (
            "cannot-build",
            "tracker 'cannot-build' (tracking_fakes) cannot start: RuntimeError: no configuration found",
        ),
        ("recorder,recorder", "--track lists a value twice: recorder,recorder"),
    ],
)
def test_a_bad_tracker_is_one_line_and_exit_2_before_any_work(
    tmp_path: Path, track: str, message: str
) -> None:
    result = _run(tmp_path, "--track", track)
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    assert not (tmp_path / "runs").exists() and not tracking_fakes.CALLS


def test_tensorboard_without_its_package_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import genbench_builtin.trackers.tensorboard as tensorboard

    monkeypatch.setattr(tensorboard.importlib.util, "find_spec", lambda name: None)
    result = _run(tmp_path, "--track", "tensorboard")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
    assert result.stderr == (
        "error: tracker 'tensorboard' (genbench_builtin.trackers): needs the tensorboard package: "
        "pip install 'genbench[tensorboard]'\n"
    )
    assert not (tmp_path / "runs").exists()


def test_track_is_repeatable_and_comma_separated() -> None:
    assert parse_repeated_lists(["tensorboard,mlflow", "recorder"], "--track") == (
        "tensorboard",
        "mlflow",
        "recorder",
    )


def test_genbench_plugins_lists_the_trackers() -> None:
    result = runner.invoke(app, ["plugins"])
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines()[1:]}
    assert rows["tensorboard"][1:3] == ["tracker", "genbench_builtin.trackers"]
    assert rows["recorder"][1] == "tracker" and rows["pixel-gaussian"][1] == "model"


def test_a_tracker_written_inline_registers_through_entry_points_like_a_third_party_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "site"
    info = package / "genbench_tiny-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: genbench-tiny\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[genbench]\ntiny = tiny_tracker\n")
    (package / "tiny_tracker.py").write_text(
        textwrap.dedent(
            """
            from genbench import Tracker, hookimpl

            class Tiny(Tracker):
                '''Appends each row's step to tiny.log in the run folder.'''
                name = "tiny"

                def start(self, run):
                    self.log = run.folder / "tiny.log"

                def log_row(self, step, row):
                    with self.log.open("a") as file:
                        file.write(f"{step}\\n")

                def end(self, end):
                    with self.log.open("a") as file:
                        file.write(f"{end.status}\\n")

            @hookimpl
            def register_trackers():
                return [Tiny]
            """
        )
    )
    monkeypatch.syspath_prepend(str(package))
    monkeypatch.setenv("GENBENCH_DISABLE_PLUGIN_AUTOLOAD", "0")
    monkeypatch.setenv("GENBENCH_PLUGINS", "fakes")
    listed = runner.invoke(app, ["plugins"])
    assert any(
        line.split()[:4] == ["tiny", "tracker", "genbench-tiny", "1.0"] for line in listed.stdout.splitlines()
    )
    result = _run(tmp_path / "out", "--track", "tiny")
    assert result.exit_code == 0, result.output
    folder = _folder(tmp_path / "out")
    steps = [str(round(row["kimg"] * 1000)) for row in read_jsonl(folder / "train.jsonl")]
    assert (folder / "tiny.log").read_text().split() == [*steps, "finished"]


class _FailsAtRows(tracking_fakes.Recorder):
    name = "fails-at-rows"

    def log_row(self, step: int, row: Any) -> None:
        raise OSError(28, "No space left on device")


def test_a_failing_tracker_warns_once_per_run_and_watches_the_next_run_again() -> None:
    said: list[str] = []
    trackers = Trackers([_FailsAtRows()], said.append, "run-a")
    run = TrackedRun("run-a", "a", Path("unused"), "bars", "pixel-gaussian", 0, {})
    for _ in range(2):  # Two runs of one sweep.
        trackers.start(run)
        for kimg in (0.1, 0.2, 0.3):
            trackers.log_row({"kimg": kimg, "loss": 1.0})
        assert trackers.failures == {"fails-at-rows": "log_row: OSError: [Errno 28] No space left on device"}
        trackers.end(RunEnd("finished", 300))
    assert len(said) == 2 and all("tracker 'fails-at-rows' failed (log_row: OSError" in line for line in said)
    assert [name for name, _ in tracking_fakes.CALLS] == ["start", "start"]  # Left out after failing.


def test_no_tracker_costs_no_call() -> None:
    trackers = Trackers()
    trackers.start(TrackedRun("r", "r", Path("unused"), "d", "m", 0, {}))
    assert not trackers.watching
    trackers.log_row({})  # No "kimg": it would fail if it looked at the row.


def test_the_builtin_tracker_is_registered_through_an_entry_point_like_the_models() -> None:
    project = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())["project"]
    assert project["entry-points"]["genbench"]["builtin_trackers"] == "genbench_builtin.trackers"
    assert project["optional-dependencies"]["tensorboard"] == ["tensorboard>=2.14"]
