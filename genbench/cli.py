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

from genbench.config import (
    DEFAULT_KIMG,
    DEFAULT_MODELS,
    DEFAULT_N_SAMPLES,
    Budget,
    RunOptions,
    default_data_root,
    parse_list,
    parse_seeds,
)
from genbench.errors import UserError
from genbench.leaderboard import LEADERBOARD_FILE, rebuild_leaderboard, records_frame, render, summarise
from genbench.plugins import Registry
from genbench.progress import RichProgress, SilentProgress
from genbench.runner import Benchmark

USAGE_ERROR = 2


class OneLineErrors(TyperGroup):
    """Turns usage errors and :class:`UserError` into one line on stderr with exit code 2."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except typer.TyperException as error:  # Usage errors of typer's (vendored) click.
            code = _fail(f"{error.format_message()} (see --help)")
        except UserError as error:
            code = _fail(str(error))
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
    help="Benchmark generative image models under one fixed budget and one evaluation protocol.",
)


@app.command()
def run(
    models: Annotated[
        str, typer.Option(help="Comma-separated model names (see `genbench plugins`).")
    ] = ",".join(DEFAULT_MODELS),
    data: Annotated[str, typer.Option(help="Comma-separated dataset names.")] = "digits",
    kimg: Annotated[
        float, typer.Option(help="Budget: thousands of real images shown to each model.")
    ] = DEFAULT_KIMG,
    steps: Annotated[int | None, typer.Option(help="Optional cap on optimisation steps.")] = None,
    seconds: Annotated[
        float | None, typer.Option(help="Optional cap on training wall-clock seconds.")
    ] = None,
    seeds: Annotated[str, typer.Option(help="Comma-separated seeds; each is a separate run.")] = "0",
    device: Annotated[str, typer.Option(help="auto (CUDA where available), cpu or cuda.")] = "auto",
    out: Annotated[Path, typer.Option(help="Output folder for run records and the leaderboard.")] = Path(
        "results"
    ),
    data_root: Annotated[
        Path | None,
        typer.Option(help="Dataset folder [default: $GENBENCH_DATA_ROOT or ~/.cache/genbench/data]."),
    ] = None,
    n_samples: Annotated[
        int, typer.Option(help="Generated samples per model for the metrics.")
    ] = DEFAULT_N_SAMPLES,
    log_every: Annotated[int, typer.Option(help="Read and log the training scalars every N steps.")] = 50,
    restart: Annotated[
        bool, typer.Option(help="Redo runs that already finished instead of reusing them.")
    ] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bars (for CI and logs).")] = False,
) -> None:
    """Train and evaluate each model on each dataset and seed under the same budget."""
    options = RunOptions(
        models=parse_list(models, "--models"),
        datasets=parse_list(data, "--data"),
        seeds=parse_seeds(seeds),
        budget=Budget(kimg=kimg, steps=steps, seconds=seconds),
        device=device,
        out=out,
        data_root=data_root or default_data_root(),
        n_samples=n_samples,
        log_every=log_every,
        restart=restart,
    )
    errors = Console(stderr=True)
    benchmark = Benchmark(
        options,
        Registry.discover(),
        progress=SilentProgress() if quiet else RichProgress(errors),
        announce=lambda message: errors.print(message, highlight=False),
    )
    records = benchmark.run()

    Console().print(render(summarise(records_frame(records)), "table"))
    errors.print(f"run records: {out / 'runs'}   leaderboard: {out / LEADERBOARD_FILE}", highlight=False)


@app.command()
def plugins() -> None:
    """List installed model and dataset plugins."""
    table = Table("name", "kind", "conditional", "distribution", "version", "description")
    for entry in Registry.discover().entries():
        conditional = "" if entry.conditional is None else ("yes" if entry.conditional else "no")
        table.add_row(
            entry.name, entry.kind, conditional, entry.distribution, entry.version, entry.description
        )
    Console().print(table)


@app.command()
def leaderboard(
    out: Annotated[Path, typer.Option(help="Output folder holding run records.")] = Path("results"),
    data: Annotated[str | None, typer.Option(help="Only this dataset.")] = None,
    format: Annotated[str, typer.Option(help="table, csv or markdown.")] = "table",
) -> None:
    """Rebuild the leaderboard from the run records and print it."""
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
    rendered = render(frame, format)
    if isinstance(rendered, str):
        typer.echo(rendered, nl=False)
    else:
        Console().print(rendered)


def main() -> None:
    """Console-script entry point."""
    app()
