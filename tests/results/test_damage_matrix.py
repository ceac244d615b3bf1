"""The damage cross product (issue 23): every kind of file genbench writes and reads back, in a finished
run, an unfinished one and their cache, times every way files get damaged (truncated to nothing, cut in
half, one flipped bit, one changed digit, another file's valid content, deleted, a folder in its place,
a link to nothing). For each: ``leaderboard``, ``report`` (where it reads the file) and the same
``run`` again never end in a traceback; a number they show is the reference's or is not shown, with a
line naming the file; the run again ends with exactly the reference's metrics and leaves no resume
checkpoint behind; and where the damage changes what genbench reads, a line names the file.

The reference (a tiny GAN on digits) is built once per session: tests/results/conftest.py.
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import torch
from damage_reference import Reference, invoke, log, metrics, run, run_dir
from matplotlib.figure import Figure
from PIL import Image

from genbench.core.files import with_checksum
from genbench.results.leaderboard import metric_columns

Locate = Callable[[Reference], Path]
pytestmark = pytest.mark.usefixtures("one_thread")  # The reference's threads: the same numbers.


@pytest.fixture(autouse=True)
def _figures_unrendered(monkeypatch: pytest.MonkeyPatch) -> None:
    """Curves and plots are laid out from the (damaged) logs and records and written as files, but not
    rasterised: that is most of a case's time, and it reads nothing genbench wrote."""
    buffer = io.BytesIO()
    Image.new("RGB", (1, 1)).save(buffer, format="png")
    png = buffer.getvalue()
    monkeypatch.setattr(Figure, "savefig", lambda self, target, **kwargs: target.write(png))


@dataclass(frozen=True)
class Kind:
    """A kind of file: where it is, which commands read it, and what another valid one looks like."""

    locate: Locate
    wrong: Callable[[Reference, Path], None]  # Writes another file's valid content in its place.
    report: bool = False  # `genbench report` reads it (the run, where False, is the one reader).
    run: bool = True  # `genbench run` reads or rewrites it.
    unfinished: bool = False  # In the interrupted run's folder (else the finished one's).


def _in_run(name: str, unfinished: bool = False) -> Locate:
    return lambda ref: run_dir(ref.unfinished if unfinished else ref.finished) / name


def _one(pattern: str, where: str = "cache") -> Locate:
    return lambda ref: next((getattr(ref, where)).glob(pattern))


def _copy_of(other: Locate) -> Callable[[Reference, Path], None]:
    return lambda ref, path: path.write_bytes(other(ref).read_bytes())


def _edited_json(edit: Callable[[dict], None]) -> Callable[[Reference, Path], None]:
    """Another record of the same kind: edited, then given a checksum that matches (a valid file)."""

    def write(ref: Reference, path: Path) -> None:
        data = json.loads(path.read_text())
        edit(data)
        data.pop("checksum", None)
        path.write_text(json.dumps(with_checksum(data), indent=2, sort_keys=True))

    return write


def _another_run(data: dict) -> None:
    data["run_id"] = data["run_id"].replace("seed0", "seed1")
    data["seed"] = 1
    data["metrics"] = {key: value * 2 for key, value in (data.get("metrics") or {}).items()}


def _another_floor(data: dict) -> None:
    data["run_id"] = data["run_id"][:-4] + "beef"
    data["metrics"] = {key: value * 2 for key, value in data["metrics"].items()}


def _another_board(ref: Reference, path: Path) -> None:
    board = ref.board.copy()
    for column in metric_columns(board):
        board[column] = board[column] * 2
    board.to_csv(path, index=False)


KINDS: dict[str, Kind] = {
    "metrics.json": Kind(_in_run("metrics.json"), _edited_json(_another_run)),
    "config.json": Kind(_in_run("config.json"), _edited_json(_another_run), report=True),
    "train.jsonl": Kind(_in_run("train.jsonl"), _copy_of(_in_run("train.jsonl", True)), report=True),
    "checkpoint.pt": Kind(_in_run("checkpoint.pt"), _copy_of(_in_run("best.pt"))),
    "best.pt": Kind(_in_run("best.pt"), _copy_of(_in_run("checkpoint.pt"))),
    "samples.png": Kind(_in_run("samples.png"), _copy_of(_in_run("progress.png")), report=True, run=False),
    "leaderboard.csv": Kind(lambda ref: ref.finished / "leaderboard.csv", _another_board),
    "report.html": Kind(
        lambda ref: ref.finished / "report.html",
        lambda ref, path: path.write_text("<!DOCTYPE html><p>another page</p>"),
        report=True,
        run=False,
    ),
    "floors/*.json": Kind(_one("floors/*.json", "finished"), _edited_json(_another_floor)),
    "cache classifiers/*.pt": Kind(_one("classifiers/*.pt"), _copy_of(_in_run("checkpoint.pt"))),
    "cache classifiers/*.json": Kind(
        _one("classifiers/*.json"), _edited_json(lambda data: data.update(dataset="mnist"))
    ),
    "unfinished resume.pt": Kind(
        _in_run("resume.pt", True), _copy_of(_in_run("resume.prev.pt", True)), unfinished=True
    ),
    "unfinished resume.prev.pt": Kind(
        _in_run("resume.prev.pt", True), _copy_of(_in_run("best.pt", True)), unfinished=True
    ),
    "unfinished train.jsonl": Kind(
        _in_run("train.jsonl", True), _copy_of(_in_run("train.jsonl")), unfinished=True
    ),
    "unfinished config.json": Kind(_in_run("config.json", True), _edited_json(_another_run), unfinished=True),
    "unfinished best.pt": Kind(_in_run("best.pt", True), _copy_of(_in_run("checkpoint.pt")), unfinished=True),
}


# The damages.


def zero(path: Path) -> None:
    path.write_bytes(b"")


def half(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def flipped_bit(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x04
    path.write_bytes(bytes(data))


def changed_digit(path: Path) -> None:
    """One digit inside a number (after a digit or a point: the file stays what it was, e.g. JSON)."""
    data = bytes(path.read_bytes())
    inside = [i for i in range(1, len(data)) if 48 <= data[i] <= 57 and data[i - 1] in b".0123456789"]
    middle = len(inside) // 2
    # From the middle on, the first digit whose change changes a value: a 17th significant digit of a
    # float may parse to the same number, which is no damage at all.
    for i in inside[middle:] + inside[:middle]:
        damaged = bytearray(data)
        damaged[i] = 48 + (damaged[i] - 48 + 1) % 10
        if path.suffix != ".json" or _parsed(bytes(damaged)) != _parsed(data):
            break
    path.write_bytes(bytes(damaged))


def _parsed(data: bytes) -> object:
    try:
        return json.loads(data)
    except ValueError:
        return None


def deleted(path: Path) -> None:
    path.unlink()


def folder(path: Path) -> None:
    path.unlink()
    path.mkdir()


def dangling(path: Path) -> None:
    path.unlink()
    path.symlink_to(path.parent / "nowhere")


DAMAGES: dict[str, Callable[[Path], None]] = {
    f.__name__: f for f in (zero, half, flipped_bit, changed_digit, deleted, folder, dangling)
}
ALL_DAMAGES = [*DAMAGES, "wrong"]  # "wrong": another file's valid content (Kind.wrong).
# Where genbench rightly says nothing: a missing file it makes anew (a record never written, a cache
# entry never computed), files it rebuilds every time, pictures (no number), and a valid resume
# checkpoint or log that resuming reads exactly as the reference's.
NOT_SAID = {
    *((kind, "deleted") for kind in KINDS if kind not in ("train.jsonl",)),
    ("metrics.json", "dangling"),
    *((kind, damage) for kind in ("leaderboard.csv", "report.html", "samples.png") for damage in ALL_DAMAGES),
    ("unfinished resume.pt", "wrong"),
    ("unfinished train.jsonl", "wrong"),
    # resume.pt is good: the previous one is never read, only replaced by the next checkpoint.
    *(("unfinished resume.prev.pt", damage) for damage in ALL_DAMAGES),
}
# An unfinished run's best.pt: other valid weights, or a flipped bit inside its tensor data (which
# torch.load cannot see), are told from a later best by the SHA-256s the checkpoint and the file's
# record beside it hold (genbench.running.best_weights).
CASES = [
    pytest.param(kind, damage, id=f"{kind} x {damage}") for kind in KINDS for damage in ALL_DAMAGES
]


def _weights(path: Path) -> dict[str, list[float]]:
    """A checkpoint's network weights, comparable."""
    networks = torch.load(path, map_location="cpu", weights_only=True)["model"]["networks"]
    return {key: value.flatten().tolist() for key, value in networks.items()}


def _check_numbers(board_result: object, out: Path, ref: Reference, absent_ok: bool = False) -> None:
    """Every number the leaderboard shows is the reference's; a row it lacks is said ("skipped"),
    unless ``absent_ok`` (its record is gone: no run to show)."""
    text = board_result.stdout  # type: ignore[attr-defined]
    shown = pd.read_csv(pd.io.common.StringIO(text)) if text.strip() else pd.DataFrame()
    expected = ref.board.set_index("run_id", drop=False) if "run_id" in ref.board else ref.board
    floor_ids = set(ref.board.loc[ref.board["seed"].isna(), "run_id"])
    for _, row in shown.iterrows():
        if row["run_id"] not in expected.index:
            continue  # The unfinished folder's floor is the same; another row would be a new run.
        for column in metric_columns(ref.board):
            want, got = expected.loc[row["run_id"], column], row.get(column)
            assert (pd.isna(want) and pd.isna(got)) or want == got, (row["run_id"], column, want, got)
    missing = set(expected.index) - set(shown.get("run_id", []))
    if out.name == "unfinished":
        missing -= set(expected.index) - floor_ids  # The interrupted run has no record yet.
    if missing and not absent_ok:
        assert "skipped:" in board_result.stderr, board_result.stderr  # type: ignore[attr-defined]


@pytest.mark.parametrize(("kind_name", "damage"), CASES)
def test_a_damaged_file_is_said_never_a_traceback_and_never_a_changed_number(
    case: Reference, reference: Reference, kind_name: str, damage: str
) -> None:
    kind = KINDS[kind_name]
    out = case.unfinished if kind.unfinished else case.finished
    path = kind.locate(case)
    kind.wrong(case, path) if damage == "wrong" else DAMAGES[damage](path)
    said = []

    board = invoke(["leaderboard", "--out", str(out), "--format", "csv"])
    assert board.exit_code == 0, board.output  # The floor is always there to show.
    gone = damage in ("deleted", "dangling") and kind_name in ("metrics.json", "floors/*.json")
    _check_numbers(board, out, case, absent_ok=gone)
    said.append(board.stderr)
    if kind.report:
        page = invoke(["report", str(out)])
        assert page.exit_code in (0, 2), page.output  # 2: no readable run (said in one line).
        assert page.exit_code == 0 or page.stderr.count("\n") == 1, page.stderr
        said.append(page.stderr)
    if kind.run:
        again = run(out)
        assert again.exit_code == 0, again.output
        said.append(again.stderr)
        assert metrics(out) == case.metrics  # Redone, resumed or reused: exactly the reference's.
        folder_after = run_dir(out)
        assert not list(folder_after.glob("resume*.pt")) and not list(folder_after.glob(".*.tmp"))
        if kind.unfinished:  # A finished run's log stays as it is (the report says what it lost).
            changed = any("train.jsonl" in text and ("lost" in text or "differ" in text) for text in said)
            assert log(folder_after) == case.log or changed  # Rows a damage lost or changed are said.
        best_lost = any("best weights so far are lost" in text for text in said)
        if not best_lost:  # Said: the next best evaluation keeps new ones (best_* columns follow).
            assert _weights(folder_after / "best.pt") == _weights(run_dir(reference.finished) / "best.pt")
        columns = [c for c in metric_columns(case.board) if not (best_lost and c.startswith("best_"))]
        rebuilt = pd.read_csv(out / "leaderboard.csv")  # By the run, from every record.
        assert rebuilt[columns].equals(case.board[columns])
    if (kind_name, damage) not in NOT_SAID:
        assert any(path.name in text for text in said), "\n".join(said)


def test_every_kind_and_damage_is_covered() -> None:
    """The cross product the issue asks for: each kind of file with each damage (8 damages)."""
    assert len(ALL_DAMAGES) == 8 and len(CASES) == len(KINDS) * 8


def test_a_folder_with_files_in_a_files_place_is_one_line_not_deleted(case: Reference) -> None:
    """A folder that holds something is not genbench's to delete: one line naming it, exit 2."""
    board = case.finished / "leaderboard.csv"
    board.unlink()
    (board / "notes").mkdir(parents=True)
    result = invoke(["leaderboard", "--out", str(case.finished)])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
    assert "leaderboard.csv" in result.stderr and "move it away" in result.stderr
    assert (board / "notes").is_dir()
    shutil.rmtree(board)
