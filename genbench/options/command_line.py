"""The options of ``genbench run`` on the command line, derived from their declaration
(:class:`genbench.options.config.RunOptions`): the typer parameters of the command, and what the
command line gave, parsed into option values."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import MISSING
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from genbench.options.config import RunOptions
from genbench.options.declaration import PANELS, Declared, declared

SUITE_HELP = "A suite file (TOML) naming models, datasets, seeds, budget, overrides."


def run_signature() -> inspect.Signature:
    """The signature typer reads for ``genbench run``: the SUITE argument, then one parameter per option,
    the main options first, then each panel's (``--help`` groups them), in declaration order. Every
    option defaults to None (not given), so a suite's value can win over the built-in default; flags
    that are off by default default to False."""
    suite = inspect.Parameter(
        "suite",
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        default=None,
        annotation=Annotated[Path | None, typer.Argument(help=SUITE_HELP, metavar="[SUITE.toml]")],
    )
    specs = sorted(_on_the_command_line(), key=lambda spec: _panel_order(spec.option.panel))
    return inspect.Signature([suite, *(_parameter(spec) for spec in specs)])


def given_on_the_command_line(values: Mapping[str, Any]) -> dict[str, Any]:
    """The options the command line gave (by field name), parsed; those not given are left out."""
    given = {}
    for spec in _on_the_command_line():
        value = values.get(spec.name)
        if value is None:
            continue
        given[spec.name] = spec.option.parse(value) if spec.option.parse else value
    return given


def _on_the_command_line() -> list[Declared]:
    return [spec for spec in declared(RunOptions) if spec.option.cli]


def _panel_order(panel: str | None) -> int:
    return 0 if panel is None else 1 + PANELS.index(panel)


def _parameter(spec: Declared) -> inspect.Parameter:
    kind = spec.option.cli_type or spec.type
    shown = {"help": _help(spec), "show_default": False, "rich_help_panel": spec.option.panel}
    if kind is bool:  # --restart/--no-restart; one on by default, --report, is None when not given.
        on = spec.default is True
        negative = f"/--no-{spec.flag.removeprefix('--')}" if spec.option.negatable else ""
        flags = spec.flag + negative
        annotation: Any = Annotated[bool | None if on else bool, typer.Option(flags, metavar="", **shown)]
        default: Any = None if on else False
    else:
        annotation = Annotated[kind | None, typer.Option(spec.flag, metavar=spec.option.metavar, **shown)]
        default = None
    return inspect.Parameter(
        spec.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default, annotation=annotation
    )


def _help(spec: Declared) -> str:
    """The option's help with its default, as rich markup: ``Generated samples ... [default: 10000].``
    (typer would put a default given as text in parentheses)."""
    shown = spec.option.shown_default
    if shown is None and spec.default is not MISSING and spec.default is not None:
        shown = f"{spec.default:g}" if isinstance(spec.default, float) else str(spec.default)
    if shown is None or isinstance(spec.default, bool):
        return escape(f"{spec.option.help}.")
    return escape(f"{spec.option.help} [default: {shown}].")
