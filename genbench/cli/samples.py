"""``genbench sample`` and ``genbench score``: a finished run's samples exported, and samples made
anywhere scored under genbench's protocol (genbench.running.sample_export and
genbench.running.external_score do the work; registered on the app in genbench.cli)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from genbench.cli.run_output import messages, score_lines
from genbench.core.progress import progress_for
from genbench.core.registry import Registry
from genbench.options.command_line import given_on_the_command_line
from genbench.options.config import resolve_options
from genbench.options.environment import plugin_autoload
from genbench.running.device import resolve_device


def sample(
    run_dir: Annotated[
        Path, typer.Argument(metavar="RUN_DIR", help="A finished run's folder (RESULTS/runs/<run id>).")
    ],
    out: Annotated[
        Path,
        typer.Option(
            metavar="FILE.npz|DIR/", help="An .npz of uint8 images (N, H, W, C), or a new folder of PNGs."
        ),
    ],
    n: Annotated[
        int | None,
        typer.Option("-n", "--n-samples", metavar="N", help="How many \\[default: the run's --n-samples]."),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            metavar="SEED", help="The sampling seed \\[default: the run's seed, as its evaluation]."
        ),
    ] = None,
    best: Annotated[
        bool,
        typer.Option(
            "--best", metavar="", help="The best weights of --eval-every (best.pt), not the final ones."
        ),
    ] = False,
    device: Annotated[str, typer.Option(metavar="auto|cpu|cuda", help="Where to sample.")] = "auto",
) -> None:
    """Export a finished run's samples: the set its evaluation scored, by default.

    Labels (the class of each image) come with a conditional model's: an npz's labels array, a folder's
    labels.txt. genbench score reads either back."""
    from genbench.running.sample_export import export_samples  # Imported here: only this command needs it.

    registry = Registry.discover(autoload=plugin_autoload())
    done = export_samples(run_dir, out, registry, resolve_device(device), n=n, seed=seed, best=best)
    typer.echo(f"wrote {done.n:,} samples ({done.weights}, seed {done.seed}) to {done.path}")


def score(
    samples: Annotated[
        Path,
        typer.Argument(
            metavar="SAMPLES",
            help="An .npz of uint8 images (N, H, W, C) with optional labels, or a folder of images.",
        ),
    ],
    data: Annotated[
        str, typer.Option(metavar="NAME", help="The dataset whose reference the samples are scored against.")
    ],
    name: Annotated[
        str | None,
        typer.Option(
            metavar="LABEL", help="The leaderboard row: external:LABEL \\[default: the file's name]."
        ),
    ] = None,
    n_samples: Annotated[
        int | None,
        typer.Option(metavar="N", help="Score the first N samples \\[default: all]; names the columns."),
    ] = None,
    metrics: Annotated[
        str | None,
        typer.Option(metavar="NAME,...", help="Comma-separated metrics \\[default: as genbench run]."),
    ] = None,
    reference_split: Annotated[
        str | None, typer.Option(metavar="test|train", help="As genbench run's.")
    ] = None,
    n_reference: Annotated[int | None, typer.Option(metavar="N", help="As genbench run's.")] = None,
    divergence_steps: Annotated[int | None, typer.Option(metavar="STEPS", help="As genbench run's.")] = None,
    bootstrap: Annotated[
        int | None, typer.Option(metavar="N", help="As genbench run's (0: no intervals).")
    ] = None,
    fid_weights: Annotated[Path | None, typer.Option(metavar="FILE", help="As genbench run's.")] = None,
    device: Annotated[str | None, typer.Option(metavar="auto|cpu|cuda", help="Where to score.")] = None,
    out: Annotated[Path, typer.Option(metavar="FOLDER", help="Results folder the record goes to.")] = Path(
        "results"
    ),
) -> None:
    """Score samples made anywhere under genbench's protocol: a leaderboard row external:LABEL.

    The same reference, classifier, quantisation, metrics and floor as genbench run on that dataset;
    the record (in RESULTS/scores/) holds the file's SHA-256, and scoring it again reuses it."""
    from genbench.running.external_score import score_samples  # Imported here: only this command needs it.

    given = {
        "datasets": data,
        "metrics": metrics,
        "reference_split": reference_split,
        "n_reference": n_reference,
        "divergence_steps": divergence_steps,
        "bootstrap": bootstrap,
        "fid_weights": fid_weights,
        "device": device,
        "out": out,
    }
    options = resolve_options({}, given_on_the_command_line(given))
    errors = Console(stderr=True)
    scored = score_samples(
        samples,
        options,
        Registry.discover(autoload=plugin_autoload()),
        resolve_device(options.device),
        label=name,
        n_samples=n_samples,
        progress=progress_for(errors),
        announce=messages(errors),
    )
    for line in score_lines(scored):
        typer.echo(line)
