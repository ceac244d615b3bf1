"""The ``genbench`` command: a thin layer that validates options once and calls the runner.

Every user mistake (unknown name, bad value, missing data) ends in one line on stderr and exit
code 2, never a traceback.
"""

from __future__ import annotations

import errno
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperGroup

from genbench.cli.arguments import (
    check_no_blank_values,
    command_line,
    page_destination,
    plugin_parent,
    results_folder,
)
from genbench.cli.listing import plain_listing, plugin_rows, rich_listing
from genbench.core.files import shown, unwritable
from genbench.core.layout import LEADERBOARD_FILE, RUNS_DIR
from genbench.core.progress import SilentProgress, progress_for
from genbench.core.registry import Registry
from genbench.errors import Interrupted, OutOfSpaceError, UserError
from genbench.options.command_line import given_on_the_command_line, run_signature
from genbench.options.config import RunOptions, resolve_options
from genbench.options.environment import plugin_autoload
from genbench.options.suite import load_suite
from genbench.results.leaderboard import (
    read_records,
    rebuild_leaderboard,
    records_frame,
    sort_frame,
    summarise,
    with_phase_seconds,
)
from genbench.results.leaderboard_view import by_model, render, terminal_view
from genbench.results.report import build_report
from genbench.running.sweep import Benchmark

USAGE_ERROR = 2
# Errors of a path (not of genbench): said in one line naming it, never a traceback.
PATH_ERRNOS = frozenset(
    {errno.ENAMETOOLONG, errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOTDIR, errno.EISDIR, errno.ELOOP}
)
RUNS_FAILED = 1  # Some runs failed or diverged; the others' records are complete.


class OneLineErrors(TyperGroup):
    """Turns usage errors and :class:`UserError` into one line on stderr with exit code 2."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        try:
            check_no_blank_values(command_line(kwargs.get("args", args[0] if args else None)))
            code = super().main(*args, standalone_mode=False, **kwargs)
        except typer.TyperException as error:  # Usage errors of typer's (vendored) click.
            code = _fail(f"{error.format_message()} (see --help)")
        except UserError as error:
            code = _fail(str(error))
        except OSError as error:  # A full disk is one line too (genbench report, leaderboard, …).
            if (out_of_space := OutOfSpaceError.wrapping(error)) is not None:
                code = _fail(str(out_of_space))
            elif error.errno in PATH_ERRNOS and error.filename:  # A path the checks above did not foresee.
                code = _fail(f"{shown(error.filename)}: {error.strerror}; the command stopped there")
            else:
                raise
        except typer.Abort:
            code = 1
        if not standalone_mode:
            return code
        sys.exit(code if isinstance(code, int) else 0)


def _fail(message: str) -> int:
    typer.echo(f"error: {' '.join(message.split())}", err=True)
    return USAGE_ERROR


app = typer.Typer(
    cls=OneLineErrors,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # Plain help: "[default: ...]" in option help is text, not rich markup.
    help="Benchmark generative image models under one fixed budget and one evaluation protocol.",
)


def run(suite: Path | None = None, **values: Any) -> None:
    """Train and evaluate each model on each dataset and seed under the same budget.

    Options given here win over the suite's values.
    """
    suite_values = load_suite(suite) if suite else {}
    name = f"suite {suite.name}" if suite else "the suite"
    _sweep(resolve_options(suite_values, given_on_the_command_line(values), suite_name=name))


run.__signature__ = run_signature()  # type: ignore[attr-defined]  # One parameter per declared option.
app.command()(run)


def _sweep(options: RunOptions) -> None:
    """Run the benchmark of validated ``options``; print the summary and what did not finish."""
    errors = Console(stderr=True)

    def say(message: str) -> None:  # One line per message, however narrow the terminal: greppable logs.
        errors.print(message, highlight=False, soft_wrap=True)

    _check_writable(options.out, "--out")
    _check_writable(options.cache_dir, "the cache folder (GENBENCH_CACHE_DIR)")
    registry = Registry.discover(autoload=plugin_autoload())
    benchmark = Benchmark(
        options,
        registry,
        progress=SilentProgress() if options.quiet else progress_for(errors),
        announce=say,
    )
    for broken in registry.broken:
        say(f"warning: plugin {broken.name} ({broken.distribution}) failed to load: {broken.error}")
    try:
        records = benchmark.run()
    except Interrupted as error:
        saved = "checkpoints are saved: " if error.saved else ""
        say(f"interrupted ({error}); {saved}run the same command again to resume")
        raise typer.Exit(benchmark.stop.exit_code) from None
    finished = [r for r in records if r.finished]
    if finished:
        summary = with_phase_seconds(summarise(records_frame(benchmark.floors + finished)), finished)
        console = Console()
        console.print(render(by_model(terminal_view(summary)), "table", console.width))
    say(f"run records: {options.out / RUNS_DIR}   leaderboard: {options.out / LEADERBOARD_FILE}")
    failed = [r for r in records if not r.finished]
    if failed:
        say(f"{len(failed)} of {len(records)} runs did not finish:")
        for record in failed:
            say(f"  {record.run_id}: {record.status}: {record.error}")
        raise typer.Exit(RUNS_FAILED)


def _check_writable(folder: Path, what: str) -> None:
    """A folder ``run`` must write in (or create): one line, exit 2, when it cannot (a read-only file
    system, no permission, /proc). Nothing is left here: a mistake found later writes nothing."""
    problem = unwritable(folder)
    if problem is not None:
        raise UserError(
            f"{what} {shown(folder)}: {problem}; make it writable or choose another folder (genbench "
            "leaderboard and genbench report --output read a read-only folder)"
        )


@app.command()
def plugins() -> None:
    """List installed model and dataset plugins."""
    rows = plugin_rows(Registry.discover(autoload=plugin_autoload()))
    console = Console()
    if console.is_terminal:
        console.print(rich_listing(rows, console.width))
    else:  # A pipe or a log: plain lines that grep finds whole.
        typer.echo(plain_listing(rows), nl=False)


@app.command()
def leaderboard(
    out: Annotated[Path, typer.Option(help="Output folder holding run records.")] = Path("results"),
    data: Annotated[str | None, typer.Option(help="Only this dataset.")] = None,
    format: Annotated[str, typer.Option(help="table, csv or markdown.")] = "table",
    by: Annotated[
        str | None,
        typer.Option(help="Sort by this metric column, best first, e.g. fid_10k [default: fd_clf_<n>]."),
    ] = None,
    summary: Annotated[
        bool, typer.Option(help="One row per dataset and model: each metric as mean ± std over seeds.")
    ] = False,
) -> None:
    """Rebuild the leaderboard from the run records and print it: one row per run and a real-data
    floor row per dataset."""
    if format not in ("table", "csv", "markdown"):
        raise UserError(f"--format must be table, csv or markdown, got '{format}'")
    if not results_folder(out, "--out").is_dir():
        raise UserError(f"no results folder at {out}; run `genbench run` first or pass --out")
    found = read_records(out)
    if not found.records and not found.unreadable:  # An empty folder or another program's: no csv there.
        raise UserError(f"no run records in {out}; run `genbench run --out {out}` first")
    unreadable: list[str] = []
    frame = rebuild_leaderboard(out, unreadable)
    _skipped(unreadable)
    if frame.empty and unreadable:
        raise UserError(f"no readable run records in {out} ({len(unreadable)} damaged, listed above)")
    if data is not None:
        if data not in set(frame["dataset"]):
            known = ", ".join(sorted(set(frame["dataset"]))) or "none"
            raise UserError(f"no runs on dataset '{data}' in {out}; datasets with runs: {known}")
        frame = frame[frame["dataset"] == data]
    frame = summarise(frame, by) if summary else sort_frame(frame, by)
    if format == "table":
        frame = terminal_view(frame, by)
        if summary:  # On its side, as `genbench run` ends: a column per model fits a terminal.
            frame = by_model(frame)
    console = Console()
    rendered = render(frame, format, console.width)
    if isinstance(rendered, str):
        typer.echo(rendered, nl=False)
    else:
        console.print(rendered)


@app.command()
def report(
    results: Annotated[Path, typer.Argument(help="The output folder of `genbench run`.")] = Path("results"),
    output: Annotated[
        Path | None, typer.Option(help="Where to write the page [default: RESULTS/report.html].")
    ] = None,
) -> None:
    """Write one self-contained HTML page: leaderboard, comparison plots, per-model pictures and curves,
    and the protocol. It opens from disk, no network needed."""
    if not results_folder(results, "RESULTS").is_dir():
        raise UserError(f"no results folder at {results}; run `genbench run --out {results}` first")
    made = None
    if output is not None:
        page_destination(output)
        made = None if output.parent.exists() else output.parent
    built = build_report(results, output)
    _skipped(built.notes)
    if made is not None and made.is_dir():
        typer.echo(f"note: made the folder {made} for --output", err=True)
    typer.echo(f"report: {built.page}")


def _skipped(notes: list[str]) -> None:
    """What a reading command left out (damaged records, pictures), one line each on stderr."""
    for note in notes:
        typer.echo(f"skipped: {' '.join(note.split())}", err=True)


@app.command("new-plugin")
def new_plugin(
    name: Annotated[str, typer.Argument(help="Distribution, model and dataset name, e.g. my-gan.")],
    parent: Annotated[Path, typer.Option("--in", help="Where to create the folder NAME/.")] = Path("."),
) -> None:
    """Write a ready plugin package NAME/: pyproject (genbench entry point), a model and a dataset that
    pass genbench's contract, their tests, a README. Then: pip install -e NAME."""
    from genbench.cli.new_plugin import write_plugin  # Imported here: only this command needs it.

    plugin_parent(parent)
    made = not parent.exists()
    folder = write_plugin(name, parent)
    if made:
        typer.echo(f"note: made the folder {parent} for --in", err=True)
    typer.echo(f"wrote {folder}; next: pip install -e {folder} && genbench run --models {name} --data {name}")


def main() -> None:
    """Console-script entry point."""
    app()
