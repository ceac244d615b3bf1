"""Fault injection: every kind of file genbench writes, damaged in each way a crash, a full disk, a bad
copy or a person damages files, in a finished and in an unfinished run. Each case ends with the
documented one-line message, never a traceback, and where the run is done again its metrics are
exactly the undamaged reference's.

One reference results folder (and its cache) is built once for the session (tests/results/conftest.py,
shared with test_damage_matrix.py); each case works on a copy.
"""

from __future__ import annotations

import builtins
import errno
import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import torch_fidelity.utils
from damage_reference import Reference, invoke, log, metrics, run, run_dir
from typer.testing import Result

import genbench.running.preparation
from genbench.errors import Interrupted

pytestmark = pytest.mark.usefixtures("one_thread")  # The reference's threads: the same numbers.
_run_dir, _log, _metrics, _invoke, _run = run_dir, log, metrics, invoke, run  # The shared reference's.


# The damages: each takes a file (or its absence) and damages it.


def truncated(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: max(path.stat().st_size // 2, 1)])


def empty(path: Path) -> None:
    path.write_bytes(b"")


def garbage_text(path: Path) -> None:
    path.write_text("this is not what genbench wrote\n")


def garbage_bytes(path: Path) -> None:
    path.write_bytes(bytes(range(256)) * 8)


def wrong_json_type(path: Path) -> None:
    path.write_text("[]\n")


def bit_flips(path: Path) -> None:
    data = bytearray(path.read_bytes())
    for i in range(len(data) // 3, len(data) // 3 * 2, max(len(data) // 50, 1)):
        data[i] ^= 0x10
    path.write_bytes(bytes(data))


def deleted(path: Path) -> None:
    path.unlink()


def right_keys_wrong_content(path: Path) -> None:
    """The record's keys with values of the wrong kind."""
    record = json.loads(path.read_text())
    path.write_text(json.dumps({**record, "metrics": "fast", "seed": "zero"}))


DAMAGES: dict[str, Callable[[Path], None]] = {
    f.__name__: f
    for f in (truncated, empty, garbage_text, garbage_bytes, wrong_json_type, bit_flips, deleted)
}


def _redone_exactly(case: Reference, out: Path, message: str) -> Result:
    """Run again: the message is said once, on one line, and the run ends as the reference did."""
    result = _run(out)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if message in line]
    assert len(lines) == 1, result.stderr
    assert _metrics(out) == case.metrics
    assert _log(_run_dir(out)) == case.log  # The log exactly an uninterrupted run's: no row lost or repeated.
    return result


# The run record (metrics.json).


def flip_bit(path: Path, after: bytes, bit: int) -> None:
    """Flip ``bit`` of the byte that follows the first ``after`` in ``path``: one chosen byte, so the
    damage's outcome is known (the record is written with sorted keys and an indent of 2)."""
    data = bytearray(path.read_bytes())
    at = data.index(after) + len(after)
    data[at] ^= bit
    path.write_bytes(bytes(data))


def bit_flip_in_the_syntax(path: Path) -> None:
    """``"status": …`` becomes ``"status"* …``: ':' is 0x3a, '*' 0x2a."""
    flip_bit(path, b'"status"', 0x10)


def bit_flip_in_a_value(path: Path) -> None:
    """``"finished"`` becomes ``"Finished"``: valid JSON of the right kinds, but no status genbench writes."""
    flip_bit(path, b'"status": "', 0x20)


RECORD_DAMAGES: dict[str, tuple[Callable[[Path], None], str]] = {
    "truncated": (truncated, "not valid JSON"),
    "empty": (empty, "not valid JSON"),
    "garbage_text": (garbage_text, "not valid JSON"),
    "garbage_bytes": (garbage_bytes, "not text"),
    "wrong_json_type": (wrong_json_type, "not a JSON object but a list"),
    "bit_flip_in_the_syntax": (bit_flip_in_the_syntax, "not valid JSON (Expecting ':' delimiter at line"),
    "bit_flip_in_a_value": (
        bit_flip_in_a_value,
        "status 'Finished' is none of finished, failed, diverged, floor",
    ),
    "right_keys_wrong_content": (right_keys_wrong_content, "seed is a string, not int"),
}


@pytest.mark.parametrize("damage", [*RECORD_DAMAGES])
def test_a_damaged_record_is_listed_by_leaderboard_and_report(case: Reference, damage: str) -> None:
    record = _run_dir(case.finished) / "metrics.json"
    damage_file, message = RECORD_DAMAGES[damage]
    damage_file(record)
    board = _invoke(["leaderboard", "--out", str(case.finished)])
    assert board.exit_code == 0, board.output  # The floor row is still there.
    assert f"skipped: {record}: {message}" in board.stderr, board.stderr
    report = _invoke(["report", str(case.finished)])
    assert report.exit_code == 2 and report.stderr.count("\n") == 1, report.output  # Nothing left to show.
    assert "no readable run records" in report.stderr and f"{record}: {message}" in report.stderr


def test_a_bit_flip_that_leaves_a_valid_record_is_said_by_its_checksum(case: Reference) -> None:
    """A record carries the checksum of its own content (issue 23): a flip that leaves valid JSON of
    the right kinds and values (seed 0 becomes 1) is damage, said and left out, not a different record."""
    record = _run_dir(case.finished) / "metrics.json"
    assert json.loads(record.read_text())["seed"] == 0
    # The record's own seed (indented 2, at the top level; a metric's interval records a seed too):
    flip_bit(record, b'\n  "seed": ', 0x01)  # '0' (0x30) becomes '1' (0x31).
    board = _invoke(["leaderboard", "--out", str(case.finished), "--format", "csv"])
    assert board.exit_code == 0, board.output  # The floor row is still there.
    assert f"skipped: {record}: its content does not match its checksum" in board.stderr, board.stderr
    assert ",gan," not in board.stdout, board.stdout


@pytest.mark.parametrize(
    "damage", ["garbage_text", "wrong_json_type", "bit_flip_in_a_value", "right_keys_wrong_content"]
)
def test_a_damaged_record_makes_the_run_unfinished_and_it_is_redone(case: Reference, damage: str) -> None:
    record = _run_dir(case.finished) / "metrics.json"
    RECORD_DAMAGES[damage][0](record)
    _redone_exactly(case, case.finished, "the run is not finished, doing it again")


def test_a_deleted_record_is_redone(case: Reference) -> None:
    (_run_dir(case.finished) / "metrics.json").unlink()
    result = _run(case.finished)
    assert result.exit_code == 0 and _metrics(case.finished) == case.metrics


def test_a_record_of_a_newer_genbench_is_refused_with_what_to_do(case: Reference) -> None:
    record = _run_dir(case.finished) / "metrics.json"
    record.write_text(json.dumps({**json.loads(record.read_text()), "schema_version": 99}))
    board = _invoke(["leaderboard", "--out", str(case.finished)])
    assert board.exit_code == 0 and "newer genbench" in board.stderr and "upgrade genbench" in board.stderr


def test_an_older_record_without_a_version_is_read(case: Reference) -> None:
    record = _run_dir(case.finished) / "metrics.json"
    old = json.loads(record.read_text())
    for key in ("schema_version", "files", "checksum", "train_log", "train_log_rows"):  # None written then.
        del old[key]
    record.write_text(json.dumps(old))
    board = _invoke(["leaderboard", "--out", str(case.finished), "--format", "csv"])
    assert board.exit_code == 0 and "skipped" not in board.stderr and "gan" in board.stdout


# The final and best checkpoints, vouched for by the record.


@pytest.mark.parametrize(
    ("name", "damage"),
    [("checkpoint.pt", "truncated"), ("checkpoint.pt", "bit_flips"), ("checkpoint.pt", "deleted"),
     ("best.pt", "garbage_bytes")],
)  # fmt: skip
def test_a_damaged_checkpoint_of_a_finished_run_redoes_it(case: Reference, name: str, damage: str) -> None:
    DAMAGES[damage](_run_dir(case.finished) / name)
    _redone_exactly(case, case.finished, f"{name}: ")


# Resume checkpoints of an unfinished run.


@pytest.mark.parametrize("damage", ["truncated", "bit_flips", "garbage_text"])
def test_a_damaged_resume_checkpoint_falls_back_to_the_previous_one(case: Reference, damage: str) -> None:
    DAMAGES[damage](_run_dir(case.unfinished) / "resume.pt")
    _redone_exactly(case, case.unfinished, "resume.pt is damaged")
    assert not list(_run_dir(case.unfinished).glob("resume*.pt"))


def test_a_resume_checkpoint_with_the_wrong_content_falls_back(case: Reference) -> None:
    run = _run_dir(case.unfinished)
    shutil.copy(run / "best.pt", run / "resume.pt")  # A whole torch file, but not a resume checkpoint.
    result = _redone_exactly(case, case.unfinished, "resume.pt is damaged")
    assert "using resume.prev.pt" in result.stderr


def test_both_resume_checkpoints_damaged_start_over_and_say_so(case: Reference) -> None:
    run = _run_dir(case.unfinished)
    truncated(run / "resume.pt")
    empty(run / "resume.prev.pt")
    result = _redone_exactly(case, case.unfinished, "resume.prev.pt is damaged")
    assert "starting over" in result.stderr and "older one" not in result.stderr


# The training log.


def test_damaged_log_lines_are_skipped_counted_and_the_rows_after_kept(case: Reference) -> None:
    log = _run_dir(case.unfinished) / "train.jsonl"
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(b"".join([*lines[:2], b"not json at all\n", *lines[2:], b"\x00\xff\xfe garbage\n"]))
    result = _redone_exactly(case, case.unfinished, "skipped 2 damaged line(s)")
    assert "UnicodeDecodeError" not in result.output


def test_binary_garbage_in_a_finished_log_does_not_break_the_report(case: Reference) -> None:
    log = _run_dir(case.finished) / "train.jsonl"
    log.write_bytes(log.read_bytes() + bytes(range(256)))
    report = _invoke(["report", str(case.finished)])
    assert report.exit_code == 0, report.output


# The config.


@pytest.mark.parametrize("damage", ["garbage_bytes", "wrong_json_type", "deleted"])
def test_a_damaged_config_of_a_finished_run_leaves_the_report_whole(case: Reference, damage: str) -> None:
    DAMAGES[damage](_run_dir(case.finished) / "config.json")
    report = _invoke(["report", str(case.finished)])
    assert report.exit_code == 0, report.output
    if damage != "deleted":
        assert "skipped: report: skipping" in report.stderr and "config.json" in report.stderr


def test_a_deleted_config_of_an_unfinished_run_is_written_again(case: Reference) -> None:
    config = _run_dir(case.unfinished) / "config.json"
    config.unlink()
    _redone_exactly(case, case.unfinished, "config.json missing; writing it again")
    assert json.loads(config.read_text())["run_id"] == _run_dir(case.unfinished).name


# The caches: the reference classifier, the floor (kept in <out>/floors/) and torch-fidelity's statistics.


def test_a_damaged_classifier_cache_is_copied_again_from_the_pinned_one(case: Reference) -> None:
    (sidecar,) = (case.cache / "classifiers").glob("*.json")
    garbage_text(sidecar)
    (_run_dir(case.finished) / "metrics.json").unlink()  # Evaluate again, with the restored classifier.
    result = _run(case.finished)
    assert result.exit_code == 0 and "copying genbench's pinned one again" in result.stderr, result.output
    assert _metrics(case.finished) == case.metrics  # The pinned weights: the same on every machine.


@pytest.mark.parametrize("damage", ["garbage_bytes", "wrong_json_type", "right_keys_wrong_content"])
def test_a_damaged_floor_is_computed_again(case: Reference, damage: str) -> None:
    (cached,) = (case.finished / "floors").glob("*.json")  # Its one place: <out>/floors/.
    before = json.loads(cached.read_text())
    {**DAMAGES, "right_keys_wrong_content": right_keys_wrong_content}[damage](cached)
    result = _run(case.finished)
    assert result.exit_code == 0 and "computing it again" in result.stderr, result.output
    assert json.loads(cached.read_text())["metrics"] == before["metrics"]


@pytest.mark.parametrize("damage", ["truncated", "bit_flips"])
def test_damaged_statistics_are_computed_again(case: Reference, damage: str) -> None:
    for path in (case.cache / "fidelity").glob("*-stat-*.pt"):
        DAMAGES[damage](path)
    (_run_dir(case.finished) / "metrics.json").unlink()
    result = _run(case.finished)
    assert result.exit_code == 0, result.output
    assert _metrics(case.finished) == case.metrics


# Files genbench rebuilds: the leaderboard and the report.


@pytest.mark.parametrize("damage", ["garbage_bytes", "truncated", "deleted"])
def test_a_damaged_leaderboard_or_report_is_rebuilt(case: Reference, damage: str) -> None:
    assert _invoke(["report", str(case.finished)]).exit_code == 0
    for name in ("leaderboard.csv", "report.html"):
        DAMAGES[damage](case.finished / name)
    assert _invoke(["leaderboard", "--out", str(case.finished)]).exit_code == 0
    assert (case.finished / "leaderboard.csv").read_text().startswith("dataset,model,seed")
    assert _invoke(["report", str(case.finished)]).exit_code == 0
    assert "<!DOCTYPE html>" in (case.finished / "report.html").read_text()


# Read-only results folders.


@contextmanager
def read_only(root: Path) -> Iterator[None]:
    """Writes under ``root`` fail with EROFS, as on a read-only mount (chmod does not stop root)."""
    inside = str(root.resolve())

    def under(path: Any) -> bool:
        return isinstance(path, str | Path) and os.path.abspath(path).startswith(inside)

    def refuse(path: Any) -> OSError:
        return OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))

    real_open, real_access, real_builtin_open = os.open, os.access, builtins.open

    def guarded_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if under(path) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise refuse(path)
        return real_open(path, flags, *args, **kwargs)

    def guarded_builtin_open(path: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if under(path) and any(c in mode for c in "wax+"):
            raise refuse(path)
        return real_builtin_open(path, mode, *args, **kwargs)

    def guarded(real: Callable[..., Any]) -> Callable[..., Any]:
        def call(path: Any, *args: Any, **kwargs: Any) -> Any:
            if under(path):
                raise refuse(path)
            return real(path, *args, **kwargs)

        return call

    def access(path: Any, mode: int, *args: Any, **kwargs: Any) -> bool:
        return False if under(path) and mode & os.W_OK else real_access(path, mode, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "open", guarded_open)
        patch.setattr(builtins, "open", guarded_builtin_open)
        patch.setattr(os, "access", access)
        for name in ("mkdir", "unlink", "replace", "rename"):
            patch.setattr(os, name, guarded(getattr(os, name)))
        yield


def test_a_read_only_results_folder_is_read_and_never_written(case: Reference, tmp_path: Path) -> None:
    out = case.finished
    with read_only(out):
        board = _invoke(["leaderboard", "--out", str(out), "--format", "csv"])
        assert board.exit_code == 0 and "gan" in board.stdout, board.output
        elsewhere = tmp_path / "elsewhere.html"
        report = _invoke(["report", str(out), "--output", str(elsewhere)])
        assert report.exit_code == 0, report.output
        in_place = _invoke(["report", str(out)])
        assert in_place.exit_code == 2 and "--output" in in_place.stderr
        run = _run(out)
        assert run.exit_code == 2 and run.stderr.count("\n") == 1 and "cannot be written" in run.stderr
    assert "<!DOCTYPE html>" in elsewhere.read_text()


# Leftovers and seeds.


def test_leftovers_of_interrupted_writes_are_removed_on_the_next_run(case: Reference) -> None:
    run = _run_dir(case.finished)
    (run / ".metrics.json.abc123.tmp").write_bytes(b"half a rec")
    shutil.copy(_run_dir(case.unfinished) / "resume.pt", run / "resume.pt")  # Killed before clean-up.
    (case.finished / ".leaderboard.csv.x1.tmp").write_text("dataset,")
    result = _run(case.finished)
    assert result.exit_code == 0 and "reusing its record" in result.stderr, result.output
    assert not list(run.glob(".*.tmp")) and not (run / "resume.pt").exists()
    assert not list(case.finished.glob(".*.tmp"))


def test_a_seed_beyond_int64_is_refused_before_any_record(case: Reference, tmp_path: Path) -> None:
    out = tmp_path / "big-seed"
    result = _run(out, "--seeds", "18446744073709551616")
    # The options' bound (NumPy's seeds stop at 2**32 - 1) refuses it before any record is written.
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "--seeds" in result.stderr
    assert not (out / "runs").exists()


# Messages after a signal and a full disk under the cache.


def test_a_signal_during_the_floor_does_not_claim_saved_checkpoints(
    case: Reference, monkeypatch: pytest.MonkeyPatch
) -> None:
    def stopped(*args: object, **kwargs: object) -> None:
        raise Interrupted("stopped by SIGTERM")

    monkeypatch.setattr(genbench.running.preparation, "floor_record", stopped)
    result = _run(case.finished)
    assert result.exit_code == 130 and "interrupted (stopped by SIGTERM)" in result.stderr, result.output
    assert "checkpoints are saved" not in result.stderr


def test_a_full_disk_under_the_cache_is_the_one_line_full_disk_message(
    case: Reference, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(what: object, path: str) -> None:
        raise RuntimeError("[enforce fail at inline_container.cc:603] . unexpected pos 64: file write failed")

    shutil.rmtree(case.cache / "fidelity")  # torch-fidelity computes the statistics again and saves them.
    (_run_dir(case.finished) / "metrics.json").unlink()
    monkeypatch.setattr(torch_fidelity.utils, "torch_atomic_save", disk_full)
    result = _run(case.finished)
    last = result.stderr.splitlines()[-1]
    assert result.exit_code == 2 and last.startswith("error: no space left on device"), result.output
    assert "fidelity" in last
