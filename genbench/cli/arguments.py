"""What the commands check of their arguments before they read or write anything: no blank values,
and paths that can be what they name (a results folder to read, a page or a plugin folder to write).

A blank value is never what a user means: ``--out ''`` would put the results in the current folder,
``report ''`` would read it. Each problem is a :class:`UserError`: one line, exit 2, nothing written.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from genbench.core.files import not_a_folder, path_problem, shown, unwritable
from genbench.errors import UserError


def command_line(args: object) -> list[str]:
    """The arguments a click ``main`` was given (``None``: the process's own)."""
    if args is None:
        return sys.argv[1:]
    return [str(arg) for arg in args] if isinstance(args, list | tuple) else []


def check_no_blank_values(args: Sequence[str]) -> None:
    """Refuse the first empty or blank value, naming its option."""
    for index, arg in enumerate(args):
        if arg == "--":
            return  # What follows is not genbench's.
        flag, equals, value = arg.partition("=")
        if arg.startswith("--") and equals and not value.strip():
            raise UserError(f"{flag} is empty; give it a value, or leave it out for its default")
        if not arg.strip():
            before = args[index - 1] if index else ""
            if before.startswith("--") and "=" not in before:
                raise UserError(f"{before} is empty; give it a value, or leave it out for its default")
            raise UserError("an argument is empty (''); name what it stands for, or leave it out")


def results_folder(path: Path, label: str) -> Path:
    """``path`` if it can be a results folder to read (it may be missing: the caller says so)."""
    problem = path_problem(path)
    if problem is not None:
        raise UserError(f"{label} {shown(path)} {problem}")
    return path


def page_destination(output: Path) -> None:
    """Refuse a page ``output`` that cannot be written: a folder, a name the file system refuses, a
    folder it cannot write in (read-only, /proc). A missing folder is made (as ``--out``'s is)."""
    problem = path_problem(output)
    if problem is not None:
        raise UserError(f"--output {shown(output)} {problem}")
    if output.is_dir():
        raise UserError(f"--output {output} is a folder; name the page's file, e.g. {output / 'report.html'}")
    problem = unwritable(output.parent)
    if problem is not None:
        raise UserError(f"--output {shown(output)}: {problem}; name a page in a folder you can write")


def plugin_parent(parent: Path) -> None:
    """Refuse a ``new-plugin --in`` folder that is a file, under one, or cannot be written in; a
    missing one is made (as ``--out``'s is)."""
    problem = not_a_folder(parent) or unwritable(parent)
    if problem is not None:
        raise UserError(f"--in {shown(parent)}: {problem}; name a folder you can write (made if missing)")
