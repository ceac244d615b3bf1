"""The example third-party package (plugins/genbench_example), installed on its own: genbench's package
does not swallow it, and when it is installed `genbench run` benchmarks its model on its dataset.

CI installs it after the main suite's run and runs this file again (.ci/run)."""

from __future__ import annotations

import json
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from setuptools import find_namespace_packages
from typer.testing import CliRunner

from genbench.cli import app

ROOT = Path(__file__).resolve().parent.parent


def test_genbench_package_does_not_include_the_example_package() -> None:
    find = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    packages = {
        p for where in find["where"] for p in find_namespace_packages(ROOT / where, include=find["include"])
    }
    assert {"genbench", "genbench.blocks", "genbench_builtin.models", "genbench_builtin.datasets"} <= packages
    assert not any(p.startswith("genbench_example") for p in packages)


def test_example_package_runs_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip(
        "genbench_example",
        reason="the example plugin is not installed: pip install -e plugins/genbench_example",
    )
    monkeypatch.delenv("GENBENCH_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    if "genbench_example" not in {ep.name for ep in metadata.entry_points(group="genbench")}:
        monkeypatch.setenv("GENBENCH_PLUGINS", "genbench_example")  # Importable without its metadata.
    out = tmp_path / "results"
    args = ["run", "--models", "hinge-gan", "--data", "shapes", "--kimg", "0.2", "--n-samples", "100"]
    args += ["--metrics", "fd_clf", "--set", "hinge-gan.base_channels=8", "--out", str(out), "--quiet"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    [metrics_file] = out.glob("runs/shapes-hinge-gan-seed0-*/metrics.json")
    record = json.loads(metrics_file.read_text())
    assert record["status"] == "finished"
    assert record["model"] == "hinge-gan" and record["dataset"] == "shapes"
    fd_clf = record["metrics"]["fd_clf_100"]  # Beside it, its interval's ends (fd_clf_100_lo, _hi).
    assert fd_clf > 0
