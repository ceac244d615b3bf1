"""How ``genbench run`` ends, read at 80 columns (issue 19): the closing table with the dataset's
preparation once, where the records are, the report it wrote last; ``--dry-run`` lists what it would
do and does nothing; messages wrap between words in a terminal and stay whole in a log."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from genbench.cli import app
from genbench.cli.run_output import messages
from genbench.core.layout import RESUME_FILE
from genbench.results.records import RunFolder
from genbench.running.plan import planned

runner = CliRunner()
RUN = ["run", "--models", "pixel-gaussian", "--data", "bars", "--kimg", "1", "--n-samples", "100"]
TINY = ["--metrics", "fd_clf", "--quiet", "--seeds", "0,1"]


@pytest.fixture(autouse=True)
def _fakes_at_80_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENBENCH_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("GENBENCH_PLUGINS", "fakes")
    monkeypatch.setenv("COLUMNS", "80")


def test_run_ends_with_its_report_and_lists_runs_before_doing_them(tmp_path: Path) -> None:
    out = tmp_path / "results"
    dry = runner.invoke(app, [*RUN, *TINY, "--out", str(out), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    lines = dry.stdout.splitlines()
    assert [line.split()[:2] for line in lines[:2]] == [["[1/2]", "train"], ["[2/2]", "train"]]
    assert lines[-1] == "2 runs: 2 to train; nothing done (--dry-run)" and not out.exists()

    result = runner.invoke(app, [*RUN, *TINY, "--out", str(out)])
    assert result.exit_code == 0, result.output
    # Issue 19: run wrote no report, and its last line never said where one would be.
    assert result.stderr.splitlines()[-1] == f"report: {out / 'report.html'}"
    assert (out / "report.html").stat().st_size > 0
    table = result.stdout.splitlines()
    assert max(map(len, table)) <= 80
    # The dataset's preparation is shown once, under its floor, not under each model as if each spent it.
    (prepare,) = [line for line in table if "seconds prepare" in line]
    floor_cell, model_cell = [cell.strip() for cell in prepare.split("│")[2:4]]
    assert float(floor_cell) >= 0 and model_cell == ""

    again = runner.invoke(app, [*RUN, *TINY, "--out", str(out), "--dry-run"])
    listed = again.stdout.splitlines()
    for line, folder in zip(listed, sorted((out / "runs").iterdir()), strict=False):
        assert line.split()[1] == "reuse" and str(folder) in line, line
    assert listed[-1] == "2 runs: 2 to reuse; nothing done (--dry-run)"


def test_a_run_with_a_resume_checkpoint_is_planned_as_resumed(tmp_path: Path) -> None:
    folder = RunFolder(tmp_path, "bars-pixel-gaussian-seed0-abc")
    assert planned(folder, restart=False).action == "train"
    folder.path.mkdir(parents=True)
    folder.file(RESUME_FILE).write_bytes(b"a checkpoint")
    assert planned(folder, restart=False).action == "resume"
    assert planned(folder, restart=True).action == "train"


DONE = "bars-pixel-gaussian-seed0-66a041c111: done in 16 s, fd_clf_10k=338.4, kid_clf_10k=3.184e+06"


def test_messages_wrap_between_words_in_a_terminal_and_stay_whole_in_a_log() -> None:
    # Issue 19: "done in 16 s, fd_clf_10k=338.4, …" wrapped mid-number at 80 columns.
    terminal = Console(file=io.StringIO(), width=80, force_terminal=True, color_system=None)
    messages(terminal)(DONE)
    shown = terminal.file.getvalue().splitlines()  # type: ignore[attr-defined]
    assert len(shown) == 2 and all(len(line) <= 80 for line in shown)
    assert " ".join(line.strip() for line in shown) == DONE  # Broken between words only.
    log = Console(file=io.StringIO(), width=80, force_terminal=False)
    messages(log)("[3/8] " + DONE)
    assert log.file.getvalue() == f"[3/8] {DONE}\n"  # type: ignore[attr-defined]  # Whole, not markup.
