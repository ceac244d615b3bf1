"""The undamaged reference the damage tests copy and damage: a finished run of a tiny GAN on digits, the
same run interrupted part-way, and their cache (reference classifier, floor). Built once per test
session (tests/results/conftest.py), shared by test_damage.py and test_damage_matrix.py."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from typer.testing import CliRunner, Result

from genbench.cli import app

runner = CliRunner()
# A tiny GAN: 0.3 kimg in batches of 16 is 19 steps, with resume checkpoints every 0.1 kimg and the
# cheap metric (and best.pt) every 0.15 kimg.
RUN = [
    "run", "--models", "gan", "--set", "gan.width=16", "--set", "gan.batch_size=16", "--data", "digits",
    "--kimg", "0.3", "--n-samples", "200", "--metrics", "fd_clf", "--eval-every", "0.15", "--n-eval", "100",
    "--checkpoint-every", "0.1", "--log-every", "2", "--quiet",
]  # fmt: skip
STOP_AT_KIMG = 0.2  # Where the unfinished reference was interrupted.


@dataclass(frozen=True)
class Reference:
    """The undamaged folders: a finished run, an unfinished one (interrupted), and their cache."""

    finished: Path
    unfinished: Path
    cache: Path
    metrics: dict[str, Any]
    log: list[dict[str, Any]]
    board: pd.DataFrame  # The finished folder's leaderboard.csv.


def run_dir(out: Path) -> Path:
    """The one run folder of an output folder."""
    (run,) = (out / "runs").iterdir()
    return run


def log(run: Path) -> list[dict[str, Any]]:
    """The rows of a run's train.jsonl without their seconds (which differ from run to run)."""
    lines = (run / "train.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(line).items() if k != "seconds"} for line in lines]


def metrics(out: Path) -> dict[str, Any]:
    """The metrics of the one run of an output folder."""
    return json.loads((run_dir(out) / "metrics.json").read_text())["metrics"]


def invoke(args: list[str]) -> Result:
    """A genbench command, in-process; never a traceback."""
    result = runner.invoke(app, args)
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def run(out: Path, *extra: str) -> Result:
    """The reference's command again, on ``out``."""
    return invoke([*RUN, "--out", str(out), *extra])
