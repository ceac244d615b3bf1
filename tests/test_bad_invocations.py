"""Bad invocations as a table (issue 23): every option of every command and every environment variable
genbench reads, given the bad values people and scripts give: empty, blank, NaN/inf, negative, huge,
the wrong type, a file where a folder goes and the reverse, /proc, a read-only place, a name or path
too long. Each ends with one line on stderr naming what is wrong, exit code 2, and nothing written:
not in the output folder, the cache, the current folder, nor anywhere else under the test's folder.

In-process (typer's CliRunner) and with the fake plugins: the whole table takes seconds.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from genbench.cli import app

runner = CliRunner()
pytestmark = pytest.mark.usefixtures("one_thread")  # See conftest.one_thread.

LONG_NAME = "n" * 300  # One name beyond what a file system takes (255 bytes).
LONG_PATH = "/tmp/" + "/".join(["p" * 200] * 25)  # A path beyond PATH_MAX (4096 bytes).
BLANK = ["", " ", "\t"]
# Placeholders, filled per test: {tmp} its folder, {file} a file, {dir} a folder, {missing} a path
# under a folder that does not exist, {dangling} a link to nothing, {results} a finished results folder.
PATHS_THAT_ARE_NOT_FOLDERS = ["{file}", "{file}/below", "/proc/genbench", "/sys/genbench", "{dangling}"]
RUN = ["run", "--models", "pixel-gaussian", "--data", "bars", "--kimg", "1", "--quiet"]


def _option(args: list[str], flag: str, values: list[str], says: str | None = None) -> list[object]:
    """One case per value of ``flag``: the message names the flag (or says ``says``)."""
    return [
        pytest.param([*args, flag, value], {}, says or flag, id=f"{args[0]} {flag} {value[:30]!r}")
        for value in values
    ]


def _env(args: list[str], name: str, values: list[str], says: str | None = None) -> list[object]:
    """One case per value of the environment variable ``name``."""
    return [
        pytest.param(args, {name: value}, says or name, id=f"{args[0]} {name}={value[:40]!r}")
        for value in values
    ]


REALS = [*BLANK, "nan", "-nan", "inf", "-inf", "-1", "1e400", "abc", "1,5"]
COUNTS = [*BLANK, "-1", "0", "1.5", "nan", "99999999999999999999999", "abc"]
RUN_CASES = [
    *_option(RUN, "--kimg", [*REALS, "0", "1e-9", "1e300"]),
    *_option(RUN, "--steps", COUNTS),
    *_option(RUN, "--seconds", [*REALS, "0", "1e300"]),
    *_option(RUN, "--n-samples", [*COUNTS, "5"]),
    *_option(RUN, "--log-every", COUNTS),
    *_option(RUN, "--n-reference", [*COUNTS, "5", "100000"]),
    *_option(RUN, "--divergence-steps", COUNTS),
    *_option(RUN, "--eval-every", [*REALS, "2"]),  # 2 > the budget of 1 kimg.
    *_option(RUN, "--checkpoint-every", [*REALS, "2"]),
    *_option(RUN, "--n-eval", [*COUNTS, "3"]),
    *_option(RUN, "--max-retries", [*BLANK, "-1", "101", "1.5", "abc"]),
    *_option(RUN, "--gpus-per-run", [*REALS, "1"]),  # Any value: Ray's option, the executor is local.
    *_option(RUN, "--cpus-per-run", [*REALS, "1"]),
    *_option(RUN, "--ray-address", [*BLANK, "127.0.0.1:6379"]),
    *_option([*RUN, "--executor", "ray"], "--gpus-per-run", ["1.5", "2.5"]),  # Checked before Ray starts.
    *_option(RUN, "--models", [*BLANK, ",", "a,,b", "pixel-gaussian,pixel-gaussian"]),
    *_option(RUN, "--models", ["nope", LONG_NAME], says="unknown model"),
    *_option(RUN, "--data", [*BLANK, ",", "bars,bars"]),
    *_option(RUN, "--data", ["nope", LONG_NAME, "folder:{file}", "npz:{dir}"], says="data"),
    *_option(RUN, "--data", ["npz:{file}", f"npz:{LONG_PATH}"], says="npz"),
    *_option(RUN, "--seeds", [*BLANK, "-1", "1.5", "a", "0,0", "99999999999", "18446744073709551616"]),
    *_option(RUN, "--metrics", [*BLANK, "fd_clf,fd_clf"]),
    *_option(RUN, "--metrics", ["fid_50k", "FD_CLF"], says="unknown metric"),
    *_option(RUN, "--metrics", ["acc_clf"], says="unconditional model 'pixel-gaussian'"),
    *_option(RUN, "--device", [*BLANK, "tpu", "CUDA:0"]),
    *_option(RUN, "--precision", [*BLANK, "fp8"]),
    *_option(RUN, "--reference-split", [*BLANK, "val"]),
    *_option(RUN, "--executor", [*BLANK, "slurm"]),
    *_option(RUN, "--out", [*BLANK, *PATHS_THAT_ARE_NOT_FOLDERS, "{tmp}/" + LONG_NAME, LONG_PATH]),
    *_option(RUN, "--data-root", [*BLANK, "{file}", "{file}/below", "{tmp}/" + LONG_NAME, LONG_PATH]),
    *_option(RUN, "--fid-weights", [*BLANK, "{dir}", "{missing}", "{dangling}", "{tmp}/" + LONG_NAME]),
    *_option(RUN, "--fid-weights", ["{file}"], says="not an Inception"),
    *_option(RUN, "--set", [*BLANK, "x", "a.b", "=1", "pixel-gaussian.lr"], says="--set"),
    *_option(RUN, "--set", [f"pixel-gaussian.lr={value}" for value in ("abc", "", "1x", "nan")], says="lr"),
    *_option(RUN, "--set", ["pixel-gaussian.nope=1"], says="has no hyperparameter nope"),
    *_option(RUN, "--set", ["bars.lr=1"], says="not among the models"),
    pytest.param(
        [*RUN, "--set", "pixel-gaussian.lr=1", "--set", "pixel-gaussian.lr=2"], {}, "twice", id="--set twice"
    ),
    *_option(RUN, "--sample-set", [*BLANK, "x", "a.b", "=1", "pixel-gaussian.steps"], says="--sample-set"),
    *_option(RUN, "--sample-set", ["pixel-gaussian.steps=1"], says="has no sampling option steps"),
    *_option(RUN, "--sample-set", ["bars.steps=1"], says="not among the models"),
    pytest.param([*RUN, "--frobnicate"], {}, "No such option", id="an unknown option"),
    *[pytest.param(["run", suite, "--quiet"], {}, says, id=f"run SUITE {suite[:30]!r}") for suite, says in [
        ("", "empty"), (" ", "empty"), ("{dir}", "{dir}"), ("{missing}", "{missing}"), ("{file}", "a-file"),
        ("{tmp}/" + LONG_NAME, "too long"), (LONG_PATH, "too long"), ("/proc/genbench.toml", "genbench.toml"),
    ]],
    *_env(RUN, "GENBENCH_CACHE_DIR", [*BLANK, *PATHS_THAT_ARE_NOT_FOLDERS, "{tmp}/" + LONG_NAME]),
    *_env(RUN, "GENBENCH_DATA_ROOT", BLANK),
    *_env(RUN, "GENBENCH_DATA_ROOT", ["{file}", "{tmp}/" + LONG_NAME], says="--data-root"),
    *_env(RUN, "GENBENCH_FID_WEIGHTS", [*BLANK, "{dir}", "{missing}", "{tmp}/" + LONG_NAME]),
    *_env(RUN, "GENBENCH_NO_DOWNLOAD", [*BLANK, "maybe", "2"]),
    *_env(RUN, "GENBENCH_CAPTURE", [*BLANK, "maybe", "2"]),
    *_env(RUN, "GENBENCH_PLUGINS", [*BLANK, ",,,", "fakes,", "fakes,,fakes"]),
    *_env(RUN, "GENBENCH_PLUGINS", ["fakes,nonexistent.module", "fakes,no_such_module_xyz"]),
]

OTHER_CASES = [
    *_env(["plugins"], "GENBENCH_PLUGINS", [*BLANK, ",,,", "nonexistent.module", "no_such_module_xyz"]),
    *_option(["leaderboard"], "--out", BLANK),
    *_option(["leaderboard"], "--out", ["{file}", "{missing}", "{dir}", "/proc"], says="run"),
    *_option(["leaderboard"], "--out", ["{tmp}/" + LONG_NAME, LONG_PATH], says="too long"),
    *_option(["leaderboard", "--out", "{results}"], "--format", [*BLANK, "xml"]),
    *_option(["leaderboard", "--out", "{results}"], "--by", [*BLANK, "fid_10k"]),
    *_option(["leaderboard", "--out", "{results}"], "--data", BLANK),
    *_option(["leaderboard", "--out", "{results}"], "--data", ["mnist"], says="no runs on dataset 'mnist'"),
    *[pytest.param(["report", value], {}, says, id=f"report RESULTS {value[:30]!r}") for value, says in [
        ("", "empty"), (" ", "empty"), ("{file}", "no results folder"), ("{missing}", "no results folder"),
        ("{dir}", "no run records"), ("{tmp}/" + LONG_NAME, "too long"), (LONG_PATH, "too long"),
    ]],
    *_option(
        ["report", "{results}"],
        "--output",
        [*BLANK, "{dir}", "{file}/page.html", "/proc/x.html", "/sys/x.html", "{tmp}/" + LONG_NAME, LONG_PATH],
    ),
    *[pytest.param(["new-plugin", name, "--in", "{tmp}/plugins"], {}, says, id=f"new-plugin {name[:20]!r}")
      for name, says in [
        ("", "empty"), (" ", "empty"), (LONG_NAME, "characters"), ("a" * 65, "characters"),
        ("My.Gan", "not valid"),
    ]],
    *[pytest.param(["new-plugin", "my-plugin", "--package", name, "--in", "{tmp}/plugins"], {}, says,
                   id=f"new-plugin --package {name[:20]!r}")
      for name, says in [
        ("", "empty"), (" ", "empty"), ("a" * 74, "characters"), ("My.Gan", "not valid"),
        ("class", "keyword"), ("os", "clash"),
    ]],
    *_option(["new-plugin", "my-plugin"], "--in", [*BLANK, *PATHS_THAT_ARE_NOT_FOLDERS, LONG_PATH]),
    pytest.param(["frobnicate"], {}, "No such command", id="an unknown command"),
]


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A finished results folder (one fake run), for the commands that read one."""
    out = tmp_path_factory.mktemp("bad-invocations") / "results"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GENBENCH_DISABLE_PLUGIN_AUTOLOAD", "1")
        patch.setenv("GENBENCH_PLUGINS", "fakes")
        patch.setenv("GENBENCH_CACHE_DIR", str(out.parent / "cache"))
        args = [*RUN, "--kimg", "0.2", "--n-samples", "100", "--metrics", "fd_clf", "--out", str(out)]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    yield out


def _tree(root: Path) -> dict[str, bytes | None]:
    """Everything under ``root`` (hidden files too): files with their bytes, folders and links as None."""
    tree: dict[str, bytes | None] = {}
    for path in sorted(root.rglob("*")):
        plain = path.is_file() and not path.is_symlink()
        tree[str(path.relative_to(root))] = path.read_bytes() if plain else None
    return tree


def _fill(value: str, places: dict[str, str]) -> str:
    return value.format(**places) if "{" in value else value


@pytest.mark.parametrize(("args", "env", "says"), RUN_CASES + OTHER_CASES)
def test_a_bad_invocation_is_one_line_exit_2_and_writes_nothing(
    args: list[str],
    env: dict[str, str],
    says: str,
    results: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "a-file").write_text("not genbench's")
    (tmp_path / "a-folder").mkdir()
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    (tmp_path / "cwd").mkdir()
    places = {
        "tmp": str(tmp_path),
        "file": str(tmp_path / "a-file"),
        "dir": str(tmp_path / "a-folder"),
        "missing": str(tmp_path / "missing" / "x"),
        "dangling": str(tmp_path / "dangling"),
        "results": str(results),
    }
    monkeypatch.chdir(tmp_path / "cwd")  # A blank path must not mean "here".
    monkeypatch.setenv("GENBENCH_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("GENBENCH_PLUGINS", "fakes")
    monkeypatch.setenv("GENBENCH_CACHE_DIR", str(tmp_path / "cache"))
    for name, value in env.items():
        monkeypatch.setenv(name, _fill(value, places))
    args = [_fill(arg, places) for arg in args]
    if args[0] == "run" and "--out" not in args[:-1]:
        args += ["--out", str(tmp_path / "out")]
    before, results_before = _tree(tmp_path), _tree(results)

    result = runner.invoke(app, args)

    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.output
    assert _fill(says, places) in result.stderr, result.stderr
    assert _tree(tmp_path) == before and _tree(results) == results_before  # Nothing written.


def test_a_read_only_folder_is_refused_like_proc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder without write permission: --out, the cache, --output and --in refuse it in one line."""
    if os.geteuid() == 0:
        pytest.skip("root writes in a folder without write permission: /proc and /sys stand in above")
    read_only = tmp_path / "read-only"
    read_only.mkdir(mode=0o555)
    monkeypatch.setenv("GENBENCH_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("GENBENCH_PLUGINS", "fakes")
    for args in (
        [*RUN, "--out", str(read_only / "out")],
        ["new-plugin", "my-plugin", "--in", str(read_only)],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
        assert "cannot be written" in result.stderr
    assert list(read_only.iterdir()) == []
