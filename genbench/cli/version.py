"""``genbench --version``: the installed distribution's version, as typer apps print theirs."""

from __future__ import annotations

from importlib import metadata

import typer


def print_version(asked: bool) -> None:
    """The ``--version`` option's callback: print ``genbench <version>`` and exit."""
    if asked:
        typer.echo(f"genbench {installed_version()}")
        raise typer.Exit()


def installed_version() -> str:
    """genbench's version, or a note where it runs from a source tree that is not installed."""
    try:
        return metadata.version("genbench")
    except metadata.PackageNotFoundError:
        return "(not installed)"
