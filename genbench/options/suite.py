"""Suite files: a benchmark written down in TOML, run with ``genbench run SUITE.toml``.

A suite names models, datasets, seeds, the budget, per-model hyperparameter overrides and metrics.
Options given on the command line win over the suite; an unknown key is an error naming the key.

    description = "Report 002: CIFAR-10 with dcgan, wgan, acgan"
    models = ["dcgan", "wgan", "acgan"]
    datasets = ["cifar10"]
    seeds = [0, 1, 2]
    kimg = 500

    [overrides.wgan]
    n_critic = 5
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from genbench.errors import UserError
from genbench.options.config import KNOWN_METRICS

# Key -> (accepted Python types of its TOML value, what to tell the user).
_SCHEMA: dict[str, tuple[tuple[type, ...], str]] = {
    "description": ((str,), "a string"),
    "models": ((list,), "a list of model names"),
    "datasets": ((list,), "a list of dataset names"),
    "seeds": ((list,), "a list of non-negative integers"),
    "kimg": ((int, float), "a number"),
    "steps": ((int,), "an integer"),
    "seconds": ((int, float), "a number"),
    "n_samples": ((int,), "an integer"),
    "log_every": ((int,), "an integer"),
    "device": ((str,), "auto, cpu or cuda"),
    "metrics": ((list,), f"a list of metric names ({', '.join(KNOWN_METRICS)})"),
    "reference_split": ((str,), "train or test"),
    "n_reference": ((int,), "an integer"),
    "divergence_steps": ((int,), "an integer"),
    "eval_every": ((int, float), "a number of kimg (0: off)"),
    "n_eval": ((int,), "an integer"),
    "checkpoint_every": ((int, float), "a number of kimg (0: off)"),
    "executor": ((str,), "local or ray"),
    "ray_address": ((str,), "a Ray cluster address, e.g. 10.0.0.1:6379"),
    "gpus_per_run": ((int, float), "a positive number (fractions share a GPU)"),
    "cpus_per_run": ((int, float), "a positive number"),
    "max_retries": ((int,), "an integer"),
    "overrides": ((dict,), "a table of per-model tables, e.g. [overrides.wgan]"),
}


def load_suite(path: Path) -> dict[str, Any]:
    """Read and check a suite file; returns its values by key (lists as tuples)."""
    if not path.is_file():
        raise UserError(f"suite file {path} does not exist")
    try:
        raw = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise UserError(f"suite {path.name} is not valid TOML: {error}") from error
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in _SCHEMA:
            raise UserError(f"suite {path.name}: unknown key '{key}'; known keys: {', '.join(_SCHEMA)}")
        types, what = _SCHEMA[key]
        if isinstance(value, bool) or not isinstance(value, types):
            raise UserError(f"suite {path.name}: '{key}' must be {what}, got {value!r}")
        values[key] = tuple(value) if isinstance(value, list) else value
    _check_items(path, values)
    return values


def _check_items(path: Path, values: dict[str, Any]) -> None:
    for key in ("models", "datasets", "metrics"):
        if not all(isinstance(item, str) and item for item in values.get(key, ())):
            raise UserError(f"suite {path.name}: '{key}' must list non-empty strings")
    if not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in values.get("seeds", ())):
        raise UserError(f"suite {path.name}: 'seeds' must list non-negative integers")
    unknown = sorted(set(values.get("metrics", ())) - set(KNOWN_METRICS))
    if unknown:
        raise UserError(
            f"suite {path.name}: unknown metric {', '.join(unknown)}; known: {', '.join(KNOWN_METRICS)}"
        )
    for model, table in values.get("overrides", {}).items():
        if not isinstance(table, dict):
            raise UserError(f"suite {path.name}: [overrides.{model}] must be a table of hyperparameters")
