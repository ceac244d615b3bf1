"""The ``genbench`` command: a thin layer that validates options once and calls the runner.

Every user mistake (unknown name, bad value, missing data) ends in one line on stderr and exit
code 2, never a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

from genbench.errors import Interrupted, OutOfSpaceError, UserError
from genbench.figures.curves import write_run_curves
from genbench.layout import LEADERBOARD_FILE, RUNS_DIR
from genbench.options.config import (
    DEFAULT_DATASETS,
    DEFAULT_KIMG,
    DEFAULT_MODELS,
    DEFAULT_N_EVAL,
    DEFAULT_N_SAMPLES,
    FID_WEIGHTS_ENV,
    KNOWN_METRICS,
    DivergenceSettings,
    RunOptions,
    default_data_root,
    parse_list,
    parse_seeds,
    resolve_options,
)
from genbench.options.overrides import parse_set_options
from genbench.options.suite import load_suite
from genbench.plugins import Registry
from genbench.progress import RichProgress, SilentProgress
from genbench.results.comparison import write_comparison_plots
from genbench.results.leaderboard import rebuild_leaderboard, records_frame, sort_frame, summarise
from genbench.results.leaderboard_view import by_model, render, terminal_view
from genbench.results.report import write_report
from genbench.running.sweep import Benchmark

USAGE_ERROR = 2
RUNS_FAILED = 1  # Some runs failed or diverged; the others' records are complete.


class OneLineErrors(TyperGroup):
    """Turns usage errors and :class:`UserError` into one line on stderr with exit code 2."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except typer.TyperException as error:  # Usage errors of typer's (vendored) click.
            code = _fail(f"{error.format_message()} (see --help)")
        except UserError as error:
            code = _fail(str(error))
        except OSError as error:  # A full disk is one line too (genbench report, leaderboard, …).
            if (out_of_space := OutOfSpaceError.wrapping(error)) is None:
                raise
            code = _fail(str(out_of_space))
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


@app.command()
def run(
    suite: Annotated[
        Path | None,
        typer.Argument(help="A suite file (TOML) naming models, datasets, seeds, budget, overrides."),
    ] = None,
    models: Annotated[
        str | None, typer.Option(help=f"Comma-separated model names [default: {','.join(DEFAULT_MODELS)}].")
    ] = None,
    data: Annotated[
        str | None,
        typer.Option(help=f"Comma-separated dataset names [default: {','.join(DEFAULT_DATASETS)}]."),
    ] = None,
    kimg: Annotated[
        float | None,
        typer.Option(
            help=f"Budget: thousands of real images shown to each model [default: {DEFAULT_KIMG:g}]."
        ),
    ] = None,
    steps: Annotated[int | None, typer.Option(help="Optional cap on optimisation steps.")] = None,
    seconds: Annotated[
        float | None, typer.Option(help="Optional cap on training wall-clock seconds.")
    ] = None,
    seeds: Annotated[
        str | None, typer.Option(help="Comma-separated seeds, one run each [default: 0].")
    ] = None,
    device: Annotated[
        str | None, typer.Option(help="auto (CUDA where available), cpu or cuda [default: auto].")
    ] = None,
    out: Annotated[Path, typer.Option(help="Output folder for run records and the leaderboard.")] = Path(
        "results"
    ),
    data_root: Annotated[
        Path | None,
        typer.Option(help="Dataset folder [default: $GENBENCH_DATA_ROOT or ~/.cache/genbench/data]."),
    ] = None,
    n_samples: Annotated[
        int | None,
        typer.Option(help=f"Generated samples per model for the metrics [default: {DEFAULT_N_SAMPLES}]."),
    ] = None,
    log_every: Annotated[
        int | None, typer.Option(help="Read the training scalars every N steps [default: 50].")
    ] = None,
    metrics: Annotated[
        str | None,
        typer.Option(help=f"Comma-separated metrics to compute [default: all: {','.join(KNOWN_METRICS)}]."),
    ] = None,
    reference_split: Annotated[
        str | None,
        typer.Option(
            help="The real split generated images are compared with: train or test [default: test]."
        ),
    ] = None,
    n_reference: Annotated[
        int | None,
        typer.Option(help="Compare with a fixed subset of this many reference images [default: all]."),
    ] = None,
    fid_weights: Annotated[
        Path | None,
        typer.Option(
            help=f"Inception weights file (torch-fidelity's format) [default: ${FID_WEIGHTS_ENV}, the torch "
            "hub cache, or a download]."
        ),
    ] = None,
    divergence_steps: Annotated[
        int | None,
        typer.Option(
            help="Training steps of each divergence estimator (jsd_clf, w1_critic) "
            f"[default: {DivergenceSettings().steps}]."
        ),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="Override a hyperparameter: MODEL.KEY=VALUE (repeatable), e.g. dcgan.lr=1e-4."
        ),
    ] = None,
    eval_every: Annotated[
        float | None,
        typer.Option(
            help="Evaluate the cheap metric (reference-classifier FD on --n-eval samples) every KIMG "
            "during training and keep the best checkpoint; 0: off [default: a tenth of the budget]."
        ),
    ] = None,
    n_eval: Annotated[
        int | None,
        typer.Option(help=f"Samples of the cheap metric during training [default: {DEFAULT_N_EVAL}]."),
    ] = None,
    checkpoint_every: Annotated[
        float | None,
        typer.Option(
            help="Save a resume checkpoint every KIMG (and on SIGINT/SIGTERM); 0: only on signals "
            "[default: a tenth of the budget]."
        ),
    ] = None,
    restart: Annotated[
        bool,
        typer.Option(help="Start every run over: no reusing finished runs, no resuming unfinished ones."),
    ] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bars (for CI and logs).")] = False,
    # Where the runs execute (results do not depend on it).
    executor: Annotated[
        str | None,
        typer.Option(help="local (one run after another here) or ray (a Ray cluster) [default: local]."),
    ] = None,
    ray_address: Annotated[
        str | None,
        typer.Option(help="The Ray cluster to use [default: $RAY_ADDRESS, else start one on this machine]."),
    ] = None,
    gpus_per_run: Annotated[
        float | None, typer.Option(help="Ray: GPUs per run on CUDA; fractions share a GPU [default: 1].")
    ] = None,
    cpus_per_run: Annotated[float | None, typer.Option(help="Ray: CPUs per run [default: 1].")] = None,
    max_retries: Annotated[
        int | None, typer.Option(help="Ray: retries of a run whose worker or node died [default: 2].")
    ] = None,
) -> None:
    """Train and evaluate each model on each dataset and seed under the same budget.

    Options given here win over the suite's values.
    """
    given = {
        "models": parse_list(models, "--models") if models else None,
        "datasets": parse_list(data, "--data") if data else None,
        "seeds": parse_seeds(seeds) if seeds else None,
        "kimg": kimg,
        "steps": steps,
        "seconds": seconds,
        "device": device,
        "out": out,
        "data_root": data_root or default_data_root(),
        "n_samples": n_samples,
        "log_every": log_every,
        "metrics": parse_list(metrics, "--metrics") if metrics else None,
        "reference_split": reference_split,
        "n_reference": n_reference,
        "fid_weights": fid_weights,
        "divergence_steps": divergence_steps,
        "eval_every": eval_every,
        "n_eval": n_eval,
        "checkpoint_every": checkpoint_every,
        "restart": restart,
        "overrides": parse_set_options(set_ or []),
        "executor": executor,
        "ray_address": ray_address,
        "gpus_per_run": gpus_per_run,
        "cpus_per_run": cpus_per_run,
        "max_retries": max_retries,
    }
    _sweep(resolve_options(load_suite(suite) if suite else {}, given), quiet)


def _sweep(options: RunOptions, quiet: bool) -> None:
    """Run the benchmark of validated ``options``; print the summary and what did not finish."""
    errors = Console(stderr=True)

    def say(message: str) -> None:  # One line per message, however narrow the terminal: greppable logs.
        errors.print(message, highlight=False, soft_wrap=True)

    registry = Registry.discover()
    benchmark = Benchmark(
        options,
        registry,
        progress=SilentProgress() if quiet else RichProgress(errors),
        announce=say,
    )
    for broken in registry.broken:
        say(f"warning: plugin {broken.name} ({broken.distribution}) failed to load: {broken.error}")
    try:
        records = benchmark.run()
    except Interrupted as error:
        say(f"interrupted ({error}); checkpoints are saved: run the same command again to resume")
        raise typer.Exit(benchmark.stop.exit_code) from None
    finished = [r for r in records if r["status"] == "finished"]
    if finished:
        summary = summarise(records_frame(benchmark.floors + finished))
        console = Console()
        console.print(render(by_model(terminal_view(summary)), "table", console.width))
    say(f"run records: {options.out / RUNS_DIR}   leaderboard: {options.out / LEADERBOARD_FILE}")
    failed = [r for r in records if r["status"] != "finished"]
    if failed:
        say(f"{len(failed)} of {len(records)} runs did not finish:")
        for record in failed:
            say(f"  {record['run_id']}: {record['status']}: {record['error']}")
        raise typer.Exit(RUNS_FAILED)


@app.command()
def plugins() -> None:
    """List installed model and dataset plugins."""
    registry = Registry.discover()
    table = Table("name", "kind", "conditional", "distribution", "version", "description")
    for entry in registry.entries():
        conditional = "" if entry.conditional is None else ("yes" if entry.conditional else "no")
        table.add_row(
            entry.name, entry.kind, conditional, entry.distribution, entry.version, entry.description
        )
    for broken in registry.broken:  # Shown, not hidden: a plugin the user installed is missing.
        error = f"BROKEN: {broken.error}"
        table.add_row(broken.name, "broken", "", broken.distribution, broken.version, error)
    Console().print(table)


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
    if not out.is_dir():
        raise UserError(f"no results folder at {out}; run `genbench run` first or pass --out")
    frame = rebuild_leaderboard(out)
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
    if not results.is_dir():
        raise UserError(f"no results folder at {results}; run `genbench run --out {results}` first")
    for run_dir in sorted((results / RUNS_DIR).glob("*/")):
        write_run_curves(run_dir)  # Cheap; brings records of older genbench versions up to date.
    write_comparison_plots(results)
    page = write_report(results, output)
    typer.echo(f"report: {page}")


def main() -> None:
    """Console-script entry point."""
    app()
