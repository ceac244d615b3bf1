"""``--help`` at 80 columns (issue 19): summaries whole, ``run``'s options in panels, no line broken
inside a token, ``-h``, ``--version`` and shell completion as typer apps have them."""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer
from typer.core import TyperGroup
from typer.testing import CliRunner

from genbench.cli import app

runner = CliRunner()
COMMANDS = ("run", "plugins", "leaderboard", "show", "report", "sample", "score", "eval", "new-plugin")
BOX = re.compile(r"[│╭╮╰╯─]")


@pytest.fixture(autouse=True)
def _80_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")


def _help(*args: str) -> str:
    result = runner.invoke(app, [*args, "--help"])
    assert result.exit_code == 0, result.output
    assert max(map(len, result.stdout.splitlines())) <= 80
    return result.stdout


def _flat(text: str) -> str:
    """The text without its boxes, on one line: what wrapped lines say once joined."""
    return " ".join(BOX.sub(" ", text).split())


def _group() -> TyperGroup:
    group = typer.main.get_command(app)
    assert isinstance(group, TyperGroup)
    return group


def test_the_command_list_gives_each_summary_whole() -> None:
    # Issue 19: summaries were cut mid-thought ("Rebuild the leaderboard from the run records and ...").
    text = _help()
    commands = text.split("Commands")[1]
    assert "..." not in commands and "…" not in commands
    for name in COMMANDS:
        summary = " ".join((_group().commands[name].help or "").split("\n\n")[0].split())
        assert summary.endswith(".") and summary in _flat(text), name


def test_run_help_groups_its_options_in_panels() -> None:
    text = _help("run")
    for panel in ("Options", "Budget", "Evaluation", "Output", "Hardware", "Ray"):
        assert f"╭─ {panel} " in text, panel
    assert re.search(r"--set +MODEL\.KEY=VALUE", text) and "list[str]" not in text
    assert "[default: 40]" in text and "--report" in text and "--no-report" in text and "--dry-run" in text


def _words(command: Any) -> set[str]:  # A command of typer's click.
    """Every word the help of ``command`` is made of, whole."""
    parts = [command.help or "", "Usage: [OPTIONS] COMMAND [ARGS]... Show this message and exit."]
    for param in command.params:
        parts += [*param.opts, *param.secondary_opts, param.metavar or "", f"[default: {param.default}]"]
        parts.append((getattr(param, "help", None) or "").replace("\\[", "["))
    typer_words = "root Options Arguments -h --help <bool> <path> <str> <int> <float> * [required]"
    typer_words += " <list[Path]>"  # The type of an argument given one or more times (genbench eval's).
    parts += [command.name or "", typer_words]
    words = set(" ".join(parts).split())
    braced = {f"{{{w}}}" for w in words} | {f"{{{w}}}..." for w in words}  # An argument, one or several.
    return words | {f"[{w}]" for w in words} | {f"[[{w}]]" for w in words} | braced


@pytest.mark.parametrize("name", COMMANDS)
def test_no_line_breaks_inside_a_token(name: str) -> None:
    # Issue 19: `acc_clf,jsd_` / `clf` across two lines.
    command = _group().commands[name]
    known = _words(command) | {"Budget", "Evaluation", "Output", "Hardware", "Ray"}
    broken = [word for word in _flat(_help(name)).split() if word not in known and word != name]
    assert not broken, broken


def test_short_help_version_and_completion() -> None:
    assert _help("run") == runner.invoke(app, ["run", "-h"]).stdout
    version = runner.invoke(app, ["--version"])
    assert version.exit_code == 0 and re.fullmatch(r"genbench \S+\n", version.stdout)
    assert "--install-completion" in _help() and "--show-completion" in _help()
