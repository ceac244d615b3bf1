"""`genbench plugins`: names never cut, however narrow the terminal; a pipe gets one line per plugin."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from typer.testing import CliRunner

from genbench.cli import app
from genbench.cli.listing import plain_listing, plugin_rows, rich_listing
from genbench.core.registry import Registry

REGISTRY = Registry.discover()
NAMES = [entry.name for entry in REGISTRY.entries()]


def test_a_pipe_gets_one_greppable_line_per_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    result = CliRunner().invoke(app, ["plugins"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1 + len(NAMES)  # A header, then one line per plugin.
    for entry in REGISTRY.entries():
        line = next(line for line in lines if line.split()[0] == entry.name)
        assert entry.kind in line and line.endswith(entry.description)
    assert any(line.startswith("fashion-mnist ") for line in lines)


@pytest.mark.parametrize("width", [200, 80, 60])
def test_a_narrow_terminal_never_cuts_names(width: int) -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=True, color_system=None)
    console.print(rich_listing(plugin_rows(REGISTRY), width))
    text = buffer.getvalue()
    assert "…" not in "".join(line[:30] for line in text.splitlines())
    for name in NAMES:
        assert any(f"{name} " in line for line in text.splitlines()), name
    assert max(len(line) for line in text.splitlines()) <= width


def test_plain_columns_line_up() -> None:
    rows = [("a", "model", "yes", "dist", "1.0", "short"), ("longer-name", "dataset", "", "d", "2", "x y")]
    lines = plain_listing(rows).splitlines()
    assert lines[1].index("model") == lines[2].index("dataset")
    assert lines[2].endswith("x y")
