"""``genbench eval``: finished runs scored again under other evaluation options, without retraining
(genbench.running.run_evaluation does the work; registered on the app in genbench.cli)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from genbench.cli.run_output import eval_line, messages
from genbench.core.progress import progress_for
from genbench.core.registry import Registry
from genbench.options.environment import plugin_autoload


def eval_runs(
    run_dirs: Annotated[
        list[Path],
        typer.Argument(metavar="RUN_DIR", help="Finished runs' folders (RESULTS/runs/<run id>)."),
    ],
    n_samples: Annotated[
        int | None,
        typer.Option(metavar="N", help="Samples to score \\[default: the run's]; names the columns."),
    ] = None,
    metrics: Annotated[
        str | None, typer.Option(metavar="NAME,...", help="Comma-separated metrics \\[default: the run's].")
    ] = None,
    best: Annotated[
        bool,
        typer.Option(
            "--best", metavar="", help="The best weights of --eval-every (best.pt), not the final ones."
        ),
    ] = False,
    bootstrap: Annotated[
        int | None,
        typer.Option(metavar="N", help="Resamples of each interval, 0: none \\[default: the run's]."),
    ] = None,
    reference_split: Annotated[
        str | None, typer.Option(metavar="test|train", help="\\[default: the run's].")
    ] = None,
    n_reference: Annotated[int | None, typer.Option(metavar="N", help="\\[default: the run's].")] = None,
    divergence_steps: Annotated[
        int | None, typer.Option(metavar="STEPS", help="\\[default: the run's].")
    ] = None,
    fid_weights: Annotated[Path | None, typer.Option(metavar="FILE", help="As genbench run's.")] = None,
    sample_set: Annotated[
        list[str] | None,
        typer.Option(
            "--sample-set",
            metavar="MODEL.KEY=VALUE",
            help="A model's sampling option, e.g. ddpm.sample_steps=10 (repeatable) \\[default: the run's].",
        ),
    ] = None,
    device: Annotated[str | None, typer.Option(metavar="auto|cpu|cuda", help="Where to evaluate.")] = None,
    out: Annotated[
        Path | None,
        typer.Option(metavar="FOLDER", help="Results folder the records go to \\[default: the run's]."),
    ] = None,
) -> None:
    """Score finished runs again under other evaluation options, without retraining.

    The samples are drawn as the run's evaluation drew them (its seed); every option left out is the
    run's own, so with none given the numbers are the run's. The record (RESULTS/evals/) is the run's
    with that evaluation in the leaderboard, and asking again reuses it."""
    from genbench.running.run_evaluation import evaluate_runs, plan_evaluations  # Only this command needs it.

    given = {
        "n_samples": n_samples,
        "metrics": metrics,
        "bootstrap": bootstrap,
        "reference_split": reference_split,
        "n_reference": n_reference,
        "divergence_steps": divergence_steps,
        "fid_weights": fid_weights,
        "device": device,
        "sampling": sample_set,
    }
    registry = Registry.discover(autoload=plugin_autoload())
    planned = plan_evaluations(run_dirs, given, registry, best=best, out=out)  # Mistakes before any work.
    errors = Console(stderr=True)
    done = evaluate_runs(
        planned,
        registry,
        progress=progress_for(errors),
        announce=messages(errors),
        done=lambda evaluated: typer.echo(eval_line(evaluated)),
    )
    folders = sorted({str(evaluated.path.parent.parent) for evaluated in done})
    messages(errors)(f"genbench leaderboard --out {' / '.join(folders)} shows them")
