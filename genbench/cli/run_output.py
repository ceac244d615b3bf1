"""What ``genbench run`` prints besides its progress bars: its messages, the closing table, where the
records, the leaderboard and the report are, and the runs that did not finish; and what
``genbench score`` and ``genbench eval`` print."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from rich.console import Console, Group, RenderableType
from rich.text import Text

from genbench.core.layout import LEADERBOARD_FILE, RUNS_DIR
from genbench.core.metrics import bound_of
from genbench.core.record import RunRecord
from genbench.errors import UserError
from genbench.results.leaderboard import records_frame, summarise
from genbench.results.leaderboard_view import by_model, render, terminal_view
from genbench.results.phase_seconds import with_phase_seconds
from genbench.results.report import build_report
from genbench.results.significance import side_by_side
from genbench.results.statistics import NEED_MORE_SEEDS, WELCH
from genbench.running.executor import failure_reason

if TYPE_CHECKING:  # Their modules load the evaluation: only genbench score and eval need them.
    from genbench.running.external_score import Scored
    from genbench.running.run_evaluation import Evaluated

# Said instead of a table of "need more seeds" where no pair of models has two seeds a side.
ONE_SEED_EACH = "no comparison over seeds is possible with one seed a model; run --seeds 0,1,2 for one"


def messages(console: Console) -> Callable[[str], None]:
    """How messages reach ``console``: in a terminal, wrapped between words at its width (never
    inside a number or a name); in a pipe or a log, one line each, whole, so grep finds them. Printed
    as they are: "[3/8]" is not markup."""

    def say(message: str) -> None:
        console.print(message, highlight=False, markup=False, soft_wrap=not console.is_terminal)

    return say


def closing_table(floors: list[RunRecord], records: list[RunRecord], width: int) -> RenderableType | None:
    """Each model's metrics over its seeds (runs that did not finish counted, not averaged), beside
    its dataset's floor, with where the seconds went; None when there is nothing to show."""
    if not records:
        return None
    summary = with_phase_seconds(summarise(records_frame(floors + records)), records)
    rendered = render(by_model(terminal_view(summary)), "table", width)
    assert not isinstance(rendered, str)  # A table for a terminal, not text.
    finished = [record for record in records if record.finished]
    pairs = side_by_side_view(summary, records_frame(finished), width) if finished else None
    return rendered if pairs is None else Group(rendered, pairs)


def side_by_side_view(summary: pd.DataFrame, runs: pd.DataFrame, width: int) -> RenderableType | None:
    """Under a summary table: whether each pair of models shown next to each other differs, per metric
    (genbench.results.significance); one line where no pair has the seeds to tell, None without pairs."""
    pairs = side_by_side(summary, runs)
    if pairs.empty:
        return None
    if pairs.drop(columns=[""]).isin([NEED_MORE_SEEDS]).all().all():  # A table of that says nothing.
        return Text(f"Side by side: {ONE_SEED_EACH}")
    table = render(pairs, "table", width)
    assert not isinstance(table, str)
    return Group(Text(f"Side by side, over seeds ({WELCH} at 5%):"), table)


def where_things_are(out: Path) -> str:
    """The line that says where the run records and the leaderboard are."""
    return f"run records: {out / RUNS_DIR}   leaderboard: {out / LEADERBOARD_FILE}"


def write_report(out: Path, say: Callable[[str], None]) -> None:
    """Write ``out``'s report.html (and its plots) and say where it is, or why there is none."""
    try:
        built = build_report(out)
    except UserError as error:
        say(f"report: not written ({error})")
        return
    for note in built.notes:
        say(f"skipped: {' '.join(note.split())}")
    say(f"report: {built.page}")


def failures(records: list[RunRecord]) -> list[str]:
    """A line per run that did not finish (none when all did), after one saying how many."""
    failed = [record for record in records if not record.finished]
    if not failed:
        return []
    lines = [f"  {record.run_id}: {record.status}: {failure_reason(record)}" for record in failed]
    return [f"{len(failed)} of {len(records)} runs did not finish:", *lines]


def score_lines(scored: Scored) -> list[str]:
    """What ``genbench score`` says: what was scored (or reused) as which row, its metrics, its record."""
    record, external = scored.record, scored.record.external or {}
    how = "reused the score of" if scored.reused else "scored"
    what = f"{external.get('n_samples', 0):,} samples of {external.get('path')}"
    lines = [f"{how} {what} on {record.dataset} as {record.model}"]
    shown = {column: value for column, value in record.metrics.items() if bound_of(column) is None}
    lines += [f"  {column} {_value(value)}" for column, value in shown.items()]
    lines.append(f"record: {scored.path}; genbench leaderboard --out {scored.path.parent.parent} shows it")
    return lines


def eval_line(evaluated: Evaluated) -> str:
    """What ``genbench eval`` says of one run, in one line: evaluated (or reused), as what, its metrics
    and its record."""
    record, evaluation = evaluated.record, evaluated.record.evaluation or {}
    how = "reused the evaluation of" if evaluated.reused else "evaluated"
    values = ", ".join(
        f"{column} {_value(value)}" for column, value in record.metrics.items() if bound_of(column) is None
    )
    return f"{how} {evaluation.get('run_id')} ({evaluation.get('label')}): {values}; record: {evaluated.path}"


def _value(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"
