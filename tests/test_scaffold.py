"""`genbench new-plugin NAME`: the package it writes passes its own tests and runs end to end; names
that cannot work are refused in one line, before anything is written."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.version import Version
from typer.testing import CliRunner

import genbench
from genbench.cli import app
from genbench.cli.new_plugin import API_FIRST_RELEASE

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.usefixtures("one_thread")  # See conftest.one_thread.


@pytest.fixture(scope="module")
def scaffold(tmp_path_factory: pytest.TempPathFactory) -> Path:
    parent = tmp_path_factory.mktemp("plugins")
    result = CliRunner().invoke(app, ["new-plugin", "my-gan", "--in", str(parent)])
    assert result.exit_code == 0, result.output
    return parent / "my-gan"


def test_new_plugin_writes_a_package_with_the_entry_point_and_the_dependency(scaffold: Path) -> None:
    files = sorted(str(p.relative_to(scaffold)) for p in scaffold.rglob("*") if p.is_file())
    assert files == [
        "README.md",
        "my_gan/__init__.py",
        "my_gan/dataset.py",
        "my_gan/model.py",
        "pyproject.toml",
        "tests/test_my_gan.py",
    ]
    pyproject = (scaffold / "pyproject.toml").read_text()
    assert '[project.entry-points.genbench]\nmy_gan = "my_gan"' in pyproject
    assert 'name = "my-gan"' in pyproject
    # The oldest genbench with the plugin API it is written against, not the genbench that wrote it.
    floor = API_FIRST_RELEASE[genbench.API_VERSION]
    assert f'dependencies = ["genbench>={floor}"]' in pyproject
    assert "genbench run --models my-gan --data my-gan" in (scaffold / "README.md").read_text()


def test_the_genbench_floor_is_one_this_release_meets_and_the_plugin_guide_gives() -> None:
    floor = API_FIRST_RELEASE[genbench.API_VERSION]  # A KeyError: a new API version without its floor.
    assert Version(floor) <= Version(genbench.__version__)
    for text in (
        (ROOT / "docs" / "plugins.md").read_text(),
        (ROOT / "plugins/genbench_example/pyproject.toml").read_text(),
    ):
        assert set(re.findall(r"genbench>=([0-9][0-9.]*)", text)) == {floor}


def test_the_scaffold_passes_its_own_tests(scaffold: Path) -> None:
    # A subprocess, as the plugin's author runs them: the package importable from its folder.
    path = os.pathsep.join([str(scaffold), *sys.path])
    env = {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "tests"],
        cwd=scaffold,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert " passed" in result.stdout and "skipped" not in result.stdout


def test_the_scaffold_runs_end_to_end(
    scaffold: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(scaffold))
    monkeypatch.setenv("GENBENCH_PLUGINS", "my_gan")  # The module registered by name, not installed.
    out = tmp_path / "results"
    args = ["run", "--models", "my-gan", "--data", "my-gan", "--kimg", "0.2", "--n-samples", "100"]
    result = CliRunner().invoke(app, [*args, "--metrics", "fd_clf", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    [metrics_file] = out.glob("runs/my-gan-my-gan-seed0-*/metrics.json")
    record = json.loads(metrics_file.read_text())
    assert record["status"] == "finished"
    fd_clf = record["metrics"]["fd_clf_100"]  # Beside it, its interval's ends (fd_clf_100_lo, _hi).
    assert fd_clf > 0


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("My.Gan", "is not valid"),
        ("2gan", "is not valid"),
        ("gan-", "is not valid"),
        ("torch", "would clash with the Python module 'torch'"),
        ("class", "is a Python keyword"),
        ("dcgan", "already has a model called 'dcgan'"),
        ("taken", "already exists"),
    ],
)
def test_unusable_names_are_one_line_errors_and_write_nothing(tmp_path: Path, name: str, says: str) -> None:
    (tmp_path / "taken").mkdir()
    result = CliRunner().invoke(app, ["new-plugin", name, "--in", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and says in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["taken"]
