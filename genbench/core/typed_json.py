"""JSON read back into frozen dataclasses, checked against their type hints.

A file genbench wrote is read through the dataclass that wrote it: every field must be there and
hold what its hint says (nested dataclasses, ``X | None``, ``Literal``, ``tuple[X, ...]``,
``dict[str, X]``, ``str``, ``int``, ``float``, ``bool``, ``Any``); anything else is a
:class:`TypedJsonError` whose message is one line naming the field, e.g. ``training.budget.kimg is a
string, not a number``. Keys the dataclass does not know are ignored.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, Literal, TypeVar, Union

from genbench.errors import UserError

T = TypeVar("T")

_WORDS = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}
_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "a boolean"}


class TypedJsonError(ValueError):
    """A JSON value that is not what its dataclass field says: one line naming the field."""


def read_typed(cls: type[T], data: Any, where: str = "") -> T:
    """``data`` (parsed JSON) as an instance of the dataclass ``cls``; ``where`` prefixes field names in
    errors (the path of ``data`` inside a larger object)."""
    if not isinstance(data, dict):
        raise TypedJsonError(f"{where or 'it'} is {json_kind(data)}, not an object")
    hints = typing.get_type_hints(cls)
    values = {}
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]  # cls is a dataclass.
        name = f"{where}.{field.name}" if where else field.name
        if field.name not in data:
            raise TypedJsonError(f"no {name}")
        values[field.name] = _read_value(hints[field.name], data[field.name], name)
    try:
        return cls(**values)
    except (TypeError, ValueError, UserError) as error:  # Its own checks (a negative budget, say).
        raise TypedJsonError(f"{where or 'it'}: {' '.join(str(error).split())}") from None


def json_kind(value: Any) -> str:
    """What a JSON value is, in words."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return _WORDS.get(type(value), type(value).__name__)


def _read_value(hint: Any, value: Any, name: str) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (hint,) = [arg for arg in args if arg is not type(None)]  # Only X | None is written.
        return _read_value(hint, value, name)
    if dataclasses.is_dataclass(hint):
        return read_typed(hint, value, name)  # type: ignore[arg-type]  # A dataclass type, not an instance.
    if origin is Literal:
        if value not in args:
            raise TypedJsonError(f"{name} is {value!r}, not {' or '.join(map(repr, args))}")
        return value
    if origin is tuple:
        _expect(list, value, name, "a list")
        return tuple(_read_value(args[0], item, f"{name}[{i}]") for i, item in enumerate(value))
    if origin is dict:
        _expect(dict, value, name, "an object")
        return {key: _read_value(args[1], item, f"{name}.{key}") for key, item in value.items()}
    if hint is Any:
        return value
    _expect(int | float if hint is float else hint, value, name, _NAMES[hint])
    return value


def _expect(kind: Any, value: Any, name: str, words: str) -> None:
    if isinstance(value, bool) != (kind is bool) or not isinstance(value, kind):
        raise TypedJsonError(f"{name} is {json_kind(value)}, not {words}")
