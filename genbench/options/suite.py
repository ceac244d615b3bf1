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
from genbench.options.config import RunOptions
from genbench.options.declaration import Declared, declared

# Key -> its option: every option with a suite description is a suite key (genbench.options.config).
_SCHEMA: dict[str, Declared] = {spec.name: spec for spec in declared(RunOptions) if spec.option.suite}


def load_suite(path: Path) -> dict[str, Any]:
    """Read and check a suite file; returns its values by key (lists as tuples). Each value is checked
    against its option's bounds here, so a bad value is a message naming the suite."""
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
        spec = _SCHEMA[key]
        if isinstance(value, bool) or not isinstance(value, spec.toml_types):
            raise UserError(f"suite {path.name}: '{key}' must be {spec.option.suite}, got {value!r}")
        values[key] = tuple(value) if isinstance(value, list) else value
    _check_items(path, values)
    for key, value in values.items():
        if (check := _SCHEMA[key].option.check) is not None:
            try:
                check(f"'{key}'", value)
            except UserError as error:
                raise UserError(f"suite {path.name}: {error}") from None
    return values


def _check_items(path: Path, values: dict[str, Any]) -> None:
    for key in ("models", "datasets", "metrics"):
        if not all(isinstance(item, str) and item for item in values.get(key, ())):
            raise UserError(f"suite {path.name}: '{key}' must list non-empty strings")
    if not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in values.get("seeds", ())):
        raise UserError(f"suite {path.name}: 'seeds' must list non-negative integers")
    for key, what in (("overrides", "hyperparameters"), ("sampling", "sampling options")):
        for model, table in values.get(key, {}).items():
            if not isinstance(table, dict):
                raise UserError(f"suite {path.name}: [{key}.{model}] must be a table of {what}")
