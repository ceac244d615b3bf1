"""The ``genbench`` command: a thin layer that validates options once and calls the runner.

Every user mistake (unknown name, bad value, missing data) ends in one line on stderr and exit
code 2, never a traceback.
"""

from __future__ import annotations

import errno
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console, RenderableType
from typer.core import TyperGroup

from genbench.cli.arguments import (
    check_no_blank_values,
    command_line,
    page_destination,
    plugin_parent,
    results_folder,
)
from genbench.cli.evaluations import eval_runs
from genbench.cli.listing import plain_listing, plugin_rows, rich_listing
from genbench.cli.run_output import (
    closing_table,
    failures,
    messages,
    side_by_side_view,
    where_things_are,
    write_report,
)
from genbench.cli.samples import sample, score
from genbench.cli.version import print_version
from genbench.core.files import shown, unwritable
from genbench.core.progress import SilentProgress, progress_for
from genbench.core.registry import Registry
from genbench.errors import Interrupted, OutOfSpaceError, UserError
from genbench.evaluation.deterministic import configure_cublas
from genbench.options.command_line import given_on_the_command_line, run_signature
from genbench.options.config import RunOptions, resolve_options
from genbench.options.environment import plugin_autoload
from genbench.options.lists import parse_list
from genbench.options.suite import load_suite
from genbench.results import compare_view
from genbench.results.agreement import agreement_lines, feature_space_agreement
from genbench.results.leaderboard import (
    read_records,
    rebuild_leaderboard,
    sort_frame,
    summarise,
)
from genbench.results.leaderboard_view import by_model, choose_columns, render, terminal_view
from genbench.results.report import build_report
from genbench.results.run_view import find_run, read_run, run_screen
from genbench.running.plan import plan_lines
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
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",  # Help in panels; defaults go through show_default, never as "[...]" text.
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Benchmark generative image models under one fixed budget and one evaluation protocol.",
)


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=print_version, is_eager=True, metavar="", help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Benchmark generative image models under one fixed budget and one evaluation protocol."""


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
    """Run the benchmark of validated ``options`` (or, with --dry-run, list what it would do); print
    the closing table, where the records and the report are, and what did not finish."""
    errors = Console(stderr=True)
    say = messages(errors)
    if not options.dry_run:
        _check_writable(options.out, "--out")
        _check_writable(options.cache_dir, "the cache folder (GENBENCH_CACHE_DIR)")
    registry = Registry.discover(autoload=plugin_autoload())
    progress = SilentProgress() if options.quiet or options.dry_run else progress_for(errors)
    benchmark = Benchmark(options, registry, progress=progress, announce=say)
    for broken in registry.broken:
        say(f"warning: plugin {broken.name} ({broken.distribution}) failed to load: {broken.error}")
    if options.dry_run:
        for line in plan_lines(benchmark.plan()):
            typer.echo(line)
        return
    try:
        records = benchmark.run()
    except Interrupted as error:
        saved = "checkpoints are saved: " if error.saved else ""
        say(f"interrupted ({error}); {saved}run the same command again to resume")
        raise typer.Exit(benchmark.stop.exit_code) from None
    console = Console()
    table = closing_table(benchmark.floors, records, console.width)
    if table is not None:
        console.print(table)
    say(where_things_are(options.out))
    if options.report:
        write_report(options.out, say)
    for line in failures(records):
        say(line)
    if any(not record.finished for record in records):
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
    """List installed models, datasets and trackers, and the plugins that failed to load."""
    rows = plugin_rows(Registry.discover(autoload=plugin_autoload()))
    console = Console()
    if console.is_terminal:
        console.print(rich_listing(rows, console.width))
    else:  # A pipe or a log: plain lines that grep finds whole.
        typer.echo(plain_listing(rows), nl=False)


LEADERBOARD_FORMATS = ("table", "csv", "markdown", "json")


@app.command()
def leaderboard(
    out: Annotated[Path, typer.Option(help="Output folder holding run records.")] = Path("results"),
    data: Annotated[str | None, typer.Option(help="Only this dataset.")] = None,
    format: Annotated[str, typer.Option(help="table, csv, markdown or json.")] = "table",
    by: Annotated[
        str | None,
        typer.Option(help="Sort by this metric column, best first, e.g. fid_10k \\[default: fd_clf_<n>]."),
    ] = None,
    summary: Annotated[
        bool,
        typer.Option(
            "--summary",
            metavar="",
            help="One row per dataset and model: seeds finished and failed, each metric as mean ± "
            "half-width of its 95% interval over seeds (csv and json: mean, interval, median and "
            "per-seed values as columns).",
        ),
    ] = False,
    columns: Annotated[
        str | None,
        typer.Option(metavar="A,B,...", help="Only these columns (after dataset, model, seed), in order."),
    ] = None,
) -> None:
    """Print the leaderboard, rebuilt from the run records.

    A row per run (failed ones with their error) and a real-data floor row per dataset and protocol."""
    if format not in LEADERBOARD_FORMATS:
        raise UserError(f"--format must be table, csv, markdown or json, got '{format}'")
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
    agreement = agreement_lines(feature_space_agreement(frame)) if format == "table" else []
    runs = frame
    frame = summarise(frame, by, numeric=format in ("csv", "json")) if summary else sort_frame(frame, by)
    pairs = side_by_side_view(frame, runs, Console().width) if summary and format == "table" else None
    if columns is not None:
        frame = choose_columns(frame, list(parse_list(columns, option="--columns")))
    elif format == "table":
        frame = terminal_view(frame, by)
    if format == "table" and summary:  # On its side, as `genbench run` ends: a column per model fits.
        frame = by_model(frame)
    _print(render(frame, format, Console().width))
    if pairs is not None:
        Console().print(pairs)
    for line in agreement:  # Below the table only: csv and markdown stay one table to parse.
        typer.echo(line)


def _print(rendered: str | RenderableType) -> None:
    """Text as it is (csv, markdown, json: for pipes), rich tables through the console."""
    if isinstance(rendered, str):
        typer.echo(rendered, nl=False)
    else:
        Console().print(rendered)


@app.command()
def show(
    run: Annotated[
        str, typer.Argument(metavar="RUN", help="A run id (its folder's name, or its start) or a run folder.")
    ],
    out: Annotated[Path, typer.Option(help="Output folder holding run records.")] = Path("results"),
    format: Annotated[str, typer.Option(help="table or json.")] = "table",
) -> None:
    """One run on one screen: status and error, model, budget, protocol, metrics and files."""
    if format not in ("table", "json"):
        raise UserError(f"--format must be table or json, got '{format}'")
    view = read_run(find_run(out, run))
    if format == "json":
        typer.echo(json.dumps(view.to_json(), indent=2))
    else:
        Console().print(run_screen(view))


@app.command()
def compare(
    model_a: Annotated[
        str, typer.Argument(help="Model A (MODEL@SETUP for one setup of a model with several).")
    ],
    model_b: Annotated[str, typer.Argument(help="Model B.")],
    out: Annotated[Path, typer.Option(help="Output folder holding run records.")] = Path("results"),
    data: Annotated[
        str | None, typer.Option(help="Only this dataset [default: every dataset with runs of both].")
    ] = None,
    metric: Annotated[str | None, typer.Option(help="Only this metric column, e.g. fd_clf_10k.")] = None,
) -> None:
    """Whether model A beats model B, metric by metric, over their seeds: the difference with its 95%
    interval, Welch's t-test, the probability of improvement and a verdict."""
    skipped: list[str] = []
    try:
        found = compare_view.comparisons(out, model_a, model_b, data, metric, skipped)
    finally:
        _skipped(skipped)
    console = Console()
    for compared in found.values():
        console.print(compare_view.heading(compared), markup=False, highlight=False, soft_wrap=True)
        console.print(render(compare_view.comparison_frame(compared), "table", console.width))
    console.print(compare_view.FOOTNOTE, markup=False, highlight=False, soft_wrap=True)


@app.command()
def report(
    results: Annotated[
        Path | None,
        typer.Argument(help="The output folder of `genbench run` (or --out) \\[default: results]."),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="The output folder, as in run and leaderboard.")] = None,
    output: Annotated[
        Path | None, typer.Option(help="Where to write the page \\[default: RESULTS/report.html].")
    ] = None,
) -> None:
    """Write one self-contained HTML page: leaderboard, plots, pictures, curves and the protocol.

    It opens from disk, no network needed."""
    if results is not None and out is not None and results != out:
        raise UserError(f"two results folders: {results} and --out {out}; name one")
    label = "RESULTS" if results is not None else "--out"
    results = results or out or Path("results")
    if not results_folder(results, label).is_dir():
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


app.command()(sample)  # genbench.cli.samples: a run's samples out, anyone's samples in.
app.command()(score)
app.command("eval")(eval_runs)  # genbench.cli.evaluations: a finished run scored again.


@app.command("new-plugin")
def new_plugin(
    name: Annotated[
        str, typer.Argument(metavar="NAME", help="Model and dataset name, as --models takes it, e.g. my-gan.")
    ],
    package: Annotated[
        str | None,
        typer.Option(
            "--package",
            help="Distribution and folder name (genbench-NAME if not given); its import name has _ for -.",
        ),
    ] = None,
    parent: Annotated[Path, typer.Option("--in", help="Where to create the folder PACKAGE/.")] = Path("."),
) -> None:
    """Write a ready plugin package genbench-NAME/ (or --package's).

    Its pyproject (genbench entry point), a model and a dataset called NAME that pass genbench's
    contract, their tests and a README. Then: pip install -e genbench-NAME."""
    from genbench.cli.new_plugin import write_plugin  # Imported here: only this command needs it.

    plugin_parent(parent)
    made = not parent.exists()
    folder = write_plugin(name, parent, package)
    if made:
        typer.echo(f"note: made the folder {parent} for --in", err=True)
    typer.echo(f"wrote {folder}; next: pip install -e {folder} && genbench run --models {name} --data {name}")


def main() -> None:
    """Console-script entry point."""
    configure_cublas()  # Before anything touches CUDA (genbench.evaluation.deterministic says why).
    app()
