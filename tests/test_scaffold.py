"""`genbench new-plugin NAME`: the package it writes passes its own tests, runs end to end and is the
package docs/plugins.md describes; names that cannot work are refused in one line, before anything is
written."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from packaging.version import Version
from typer.testing import CliRunner

import genbench
from genbench.blocks import LatentModel
from genbench.cli import app
from genbench.cli.new_plugin import API_FIRST_RELEASE

ROOT = Path(__file__).resolve().parents[1]
GUIDE = (ROOT / "docs" / "plugins.md").read_text()

pytestmark = pytest.mark.usefixtures("one_thread")  # See conftest.one_thread.


@pytest.fixture(scope="module")
def scaffold(tmp_path_factory: pytest.TempPathFactory) -> Path:
    parent = tmp_path_factory.mktemp("plugins")
    result = CliRunner().invoke(app, ["new-plugin", "my-gan", "--in", str(parent)])
    assert result.exit_code == 0, result.output
    return parent / "genbench-my-gan"


def test_new_plugin_writes_a_package_with_the_entry_point_and_the_dependency(scaffold: Path) -> None:
    files = sorted(str(p.relative_to(scaffold)) for p in scaffold.rglob("*") if p.is_file())
    assert files == [
        "README.md",
        "genbench_my_gan/__init__.py",
        "genbench_my_gan/dataset.py",
        "genbench_my_gan/model.py",
        "pyproject.toml",
        "tests/test_genbench_my_gan.py",
    ]
    pyproject = (scaffold / "pyproject.toml").read_text()
    assert '[project.entry-points.genbench]\ngenbench_my_gan = "genbench_my_gan"' in pyproject
    assert 'name = "genbench-my-gan"' in pyproject
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
    monkeypatch.setenv("GENBENCH_PLUGINS", "genbench_my_gan")  # The module registered by name, not installed.
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
    ("names", "says"),
    [
        (["My.Gan"], "plugin name 'My.Gan' is not valid"),
        (["2gan"], "is not valid"),
        (["gan-"], "is not valid"),
        (["my-bars", "--package", "Acme.Gan"], "package name 'Acme.Gan' is not valid"),
        (["my-bars", "--package", "acme-"], "is not valid"),
        (["my-bars", "--package", "a" * 74], "use at most 73"),
        (["my-bars", "--package", "torch"], "would clash with the Python module 'torch'"),
        (["my-bars", "--package", "class"], "is a Python keyword"),
        (["dcgan"], "already has a model called 'dcgan'"),
        (["taken"], "genbench-taken already exists"),
        (["my-bars", "--package", "genbench-taken"], "genbench-taken already exists"),
    ],
)
def test_unusable_names_are_one_line_errors_and_write_nothing(
    tmp_path: Path, names: list[str], says: str
) -> None:
    (tmp_path / "genbench-taken").mkdir()
    result = CliRunner().invoke(app, ["new-plugin", *names, "--in", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and says in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["genbench-taken"]


def test_package_names_the_distribution_and_name_the_model_and_dataset(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["new-plugin", "bars", "--package", "acme-bars", "--in", str(tmp_path)])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "acme-bars"
    pyproject = (folder / "pyproject.toml").read_text()
    assert 'name = "acme-bars"' in pyproject and 'acme_bars = "acme_bars"' in pyproject
    assert 'name = "bars"' in (folder / "acme_bars" / "model.py").read_text()
    tests = (folder / "tests" / "test_acme_bars.py").read_text()
    assert "from acme_bars import BarsDataset, BarsModel" in tests


def _guide_section(number: int) -> str:
    return GUIDE.split(f"\n## {number}. ")[1].split("\n## ")[0]


def test_the_guide_describes_the_package_the_scaffold_writes(
    scaffold: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Section 1: the folder to cd into after `genbench new-plugin my-gan`.
    start = _guide_section(1)
    assert "genbench new-plugin my-gan\n" in start
    assert f"cd {scaffold.name} " in start
    # Section 2: the pyproject's lines (name, genbench floor, entry point) and where the hooks are.
    finding = _guide_section(2)
    pyproject = (scaffold / "pyproject.toml").read_text()
    for pattern in (r'name = "[^"]+"', r"dependencies = \[[^]]+\]", r'\w+ = "genbench_my_gan[^"]*"'):
        [line] = re.findall(pattern, finding)
        assert line in pyproject, f"section 2 shows {line!r}; the scaffold writes:\n{pyproject}"
    [hooks] = re.findall(r"^# (genbench_my_gan/\S+\.py)$", finding, re.M)
    assert "@hookimpl" in (scaffold / hooks).read_text()
    # Section 6: its import line imports the scaffold's classes.
    [imports] = re.findall(r"^from genbench_my_gan\S* import .+$", _guide_section(6), re.M)
    monkeypatch.syspath_prepend(str(scaffold))
    exec(imports, {})
    # Section 8: the distribution named genbench-... and the model and dataset not.
    publishing = " ".join(_guide_section(8).split())
    assert "`genbench new-plugin my-gan` writes the distribution `genbench-my-gan`" in publishing
    assert re.search(r'^    name = "my-gan"$', (scaffold / "genbench_my_gan" / "model.py").read_text(), re.M)


def test_the_scaffold_calls_only_documented_public_api(scaffold: Path) -> None:
    model = (scaffold / "genbench_my_gan" / "model.py").read_text()
    called = set(re.findall(r"self\.(\w+)\(", model))
    assert called >= {"add_adam", "prior_latents"}
    assert not [name for name in called if name.startswith("_")], called
    # genbench's methods (not the submodules it calls, nor torch's nn.Module methods) are in the guide.
    for name in {n for n in called if hasattr(LatentModel, n) and not hasattr(torch.nn.Module, n)}:
        assert re.search(rf"`{name}\(", GUIDE), f"the scaffold calls self.{name}(...), not in the guide"
