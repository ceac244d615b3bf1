"""What declaring an option means. Every ``genbench run`` option is one field of
:class:`genbench.options.config.RunOptions`, whose metadata (:class:`Option`, made by :func:`option`)
says everything else genbench needs to know about it; the command line
(``genbench.options.command_line``), the suite schema (``genbench.options.suite``), validation
(``RunOptions.__post_init__``, before anything is written) and the run identity
(``genbench.options.identity``, whose hash names the run folder) are all derived from these fields.

To add an option, add one field to ``RunOptions``, e.g.::

    warmup_kimg: float | None = option(
        None,
        help="Raise the learning rate from 0 over this many kimg",
        suite="a number of kimg",
        check=number(MAX_KIMG),
        group="budget",
        affects_results=True,
    )

read ``options.warmup_kimg`` where it is used, and list it with another value in ``AFFECTING`` (or
``NOT_AFFECTING``) of tests/options/test_identity.py, which then checks that changing it does (or
does not) give another run. ``genbench run --warmup-kimg``, its help, the suite key ``warmup_kimg``,
its bounds and its place in the run identity follow from the field.
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from collections.abc import Callable
from dataclasses import MISSING, dataclass
from pathlib import Path
from typing import Any

from genbench.api import Bounds
from genbench.core.files import not_a_folder, not_a_regular_file, path_problem, shown
from genbench.errors import UserError

# The groups of ``genbench run --help``, in this order after the main options (Option.panel).
PANELS = ("Budget", "Evaluation", "Output", "Hardware", "Ray")
Check = Callable[[str, Any], None]  # (flag, value) -> None, or raise UserError naming the flag.
TOML_TYPES: dict[type, tuple[type, ...]] = {  # A field's type -> the TOML values a suite may give.
    int: (int,),
    float: (int, float),
    str: (str,),
    tuple: (list,),
    dict: (dict,),
}


@dataclass(frozen=True)
class Option:
    """The metadata of one option (one field of ``RunOptions``)."""

    help: str  # What --help says (the default is appended).
    affects_results: bool  # Whether another value gives another result: it names the run folder.
    shown_default: str | None = None  # The default as --help shows it; None: the field's default.
    cli: bool = True  # On the command line, as ``--name-with-dashes`` unless ``flag`` says otherwise.
    flag: str | None = None
    cli_type: Any = None  # What the command line parses (str for lists); None: the field's type.
    parse: Callable[[Any], Any] | None = None  # The command line's value -> the field's value.
    suite: str | None = None  # What the suite key takes, in words (for messages); None: not in suites.
    check: Check | None = None  # Bounds, checked before anything is written.
    group: str | None = None  # Where the run identity (config.json) puts it: "budget", "evaluation".
    # For options that affect results through what they resolve to (a run's own model, seed, device
    # type, weights hash), the run identity's key that records it instead of the option's value.
    resolved_as: str | None = None
    zero_is_off: bool = False  # 0 means "off" (None).
    # The value when neither a suite nor the command line gives one, from the other values (resolved
    # by genbench.options.config.resolve_options); None: the field's default.
    default_from: Callable[[dict[str, Any]], Any] | None = None
    panel: str | None = None  # Where ``run --help`` lists it (PANELS); None: with the main options.
    metavar: str | None = None  # What --help shows it takes, e.g. ``MODEL.KEY=VALUE``; None: its type.
    negatable: bool = True  # A flag's --no- form (--no-quiet); False: the flag alone (--dry-run).


@dataclass(frozen=True)
class Declared:
    """An option with its field's name, type and default."""

    name: str
    type: Any  # The field's type, with ``X | None`` as X.
    default: Any  # MISSING when made by a factory.
    option: Option

    @property
    def flag(self) -> str:
        """The command line's flag, e.g. ``--n-samples``."""
        return self.option.flag or "--" + self.name.replace("_", "-")

    @property
    def label(self) -> str:
        """How messages name it: the flag, or the suite key for a suite-only option."""
        return self.flag if self.option.cli else repr(self.name)

    @property
    def toml_types(self) -> tuple[type, ...]:
        """The Python types of the TOML values a suite may give."""
        return TOML_TYPES[self.type]


def option(default: Any = MISSING, *, default_factory: Any = MISSING, **metadata: Any) -> Any:
    """A ``RunOptions`` field declaring an option (see :class:`Option` for ``metadata``)."""
    return dataclasses.field(
        default=default, default_factory=default_factory, metadata={"option": Option(**metadata)}
    )


@functools.cache
def declared(cls: type) -> tuple[Declared, ...]:
    """The options declared by ``cls``'s fields, in declaration order (the order of --help)."""
    hints = _field_types(cls)
    return tuple(
        Declared(f.name, hints[f.name], f.default, f.metadata["option"])
        for f in dataclasses.fields(cls)
        if "option" in f.metadata
    )


def _field_types(cls: type) -> dict[str, Any]:
    """Each field's type as a plain class: ``X | None`` -> X, ``tuple[str, ...]`` -> tuple,
    ``Literal["a", "b"]`` -> str."""
    plain = {}
    for name, hint in typing.get_type_hints(cls).items():
        args = typing.get_args(hint)
        if type(None) in args:
            hint = next(arg for arg in args if arg is not type(None))
        origin = typing.get_origin(hint)
        if origin is typing.Literal:
            hint = type(typing.get_args(hint)[0])
        plain[name] = origin if origin in (tuple, dict, list) else hint
    return plain


# Bounds: each returns a Check, built on genbench.api.Bounds, the checker (and the message) that
# models' hyperparameters use too. Limits are about sense, not hardware: a value beyond them is a typo
# or an attack, and would start work that fails late or never ends.


def number(high: float, *, low: float = 0.0, what: str = "positive") -> Check:
    """A finite number above ``low`` (``what`` says so) and at most ``high``."""
    above, at_most = Bounds(low=low, low_open=True, what=what), Bounds(high=high)

    def check(flag: str, value: float) -> None:
        above.check(flag, value)
        at_most.check(flag, value)

    return check


def count(low: int, high: int) -> Check:
    """An integer from ``low`` to ``high``."""
    return Bounds(low=low, high=high).check


def one_of(*choices: str) -> Check:
    """One of ``choices``."""

    def check(flag: str, value: str) -> None:
        if value not in choices:
            listed = ", ".join(choices[:-1]) + f" or {choices[-1]}"
            raise UserError(f"{flag} must be {listed}, got '{value}'")

    return check


def auto_or_count(high: int) -> Check:
    """``auto`` or a whole number from 1 to ``high``, as text (the option's value keeps the text)."""
    at_most = Bounds(low=1, high=high)

    def check(flag: str, value: str) -> None:
        if value == "auto":
            return
        if not value.isdigit():
            raise UserError(f"{flag} must be auto or a whole number from 1 to {high}, got '{value}'")
        at_most.check(flag, int(value))

    return check


def names(
    known: tuple[str, ...] | None = None, what: str = "value", high: int | None = None, empty: bool = False
) -> Check:
    """A list without repeats, non-empty unless ``empty`` (of ``known`` names when given; each at most
    ``high``)."""
    at_most = Bounds(high=high)

    def check(flag: str, values: tuple[Any, ...]) -> None:
        if not values and not empty:
            raise UserError(f"{flag} needs at least one value")
        if len(set(values)) != len(values):
            raise UserError(f"{flag} lists a value twice: {','.join(map(str, values))}")
        unknown = [name for name in values if known is not None and name not in known]
        if unknown:
            raise UserError(f"unknown {what} {', '.join(unknown)}; known: {', '.join(known or ())}")
        for value in values if high is not None else ():  # Numbers (seeds); names have no bound.
            at_most.check(f"{flag} values", value)

    return check


def folder(flag: str, path: Path) -> None:
    """A folder, or a path where one can be made: not an existing file, nor under one, nor a name the
    file system refuses (too long)."""
    problem = not_a_folder(path)
    if problem is not None:
        raise UserError(f"{flag} {shown(path)}: {problem}; name a folder (made if missing)")


def existing_file(what: str, env: str | None = None) -> Check:
    """An existing file; ``what`` names it in the message, with the environment variable that can set it."""

    def check(flag: str, path: Path) -> None:
        where = flag if env is None else f"{flag} or ${env}"
        problem = path_problem(path) or not_a_regular_file(Path(path))
        if problem is not None:
            raise UserError(f"{what} {shown(path)} ({where}) {problem}")
        if not Path(path).is_file():
            raise UserError(f"{what} {path} ({where}) does not exist")

    return check
