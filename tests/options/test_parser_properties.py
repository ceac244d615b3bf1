"""Property-based tests of the input parsers: whatever a user types in ``--set``, ``--seeds``, a list
option or a suite file, the answer is a value or a one-line UserError, never another exception; and
what is well formed comes back exactly."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from genbench.errors import UserError
from genbench.options.config import parse_list, parse_seeds, resolve_options
from genbench.options.overrides import convert, parse_set_options
from genbench.options.suite import load_suite

# A name as plugins and hyperparameters spell them (plugins.py enforces this shape for plugin names).
names = st.from_regex(r"[a-z][a-z0-9_-]{0,12}", fullmatch=True)
values = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=20)
# Derandomized: CI must give the same verdict on the same code. Explore more locally with
# GENBENCH_HYPOTHESIS_EXAMPLES=20000 (random draws) before changing a parser.
_EXPLORE = int(os.environ.get("GENBENCH_HYPOTHESIS_EXAMPLES", "0"))
PROPERTY_SETTINGS = settings(
    max_examples=_EXPLORE or 200, deadline=None, derandomize=not _EXPLORE, database=None
)


def _user_error_or(call, *args):
    try:
        return call(*args)
    except UserError as error:
        assert "\n" not in str(error).strip()  # One line.
        return error


@PROPERTY_SETTINGS
@given(st.lists(st.text(max_size=30), max_size=5))
def test_set_options_never_fail_unexpectedly(items: list[str]) -> None:
    result = _user_error_or(parse_set_options, items)
    if not isinstance(result, UserError):
        assert all(isinstance(table, dict) for table in result.values())


@PROPERTY_SETTINGS
@given(
    st.lists(
        st.tuples(names, names.filter(lambda s: "." not in s), values),
        min_size=1,
        max_size=5,
        unique_by=lambda item: (item[0], item[1]),  # The same key twice is refused (tested in test_cli).
    )
)
def test_well_formed_set_options_come_back_exactly(items: list[tuple[str, str, str]]) -> None:
    parsed = parse_set_options(f"{model}.{key}={value}" for model, key, value in items)
    expected: dict[str, dict[str, str]] = {}
    for model, key, value in items:
        expected.setdefault(model, {})[key] = value.strip()
    assert parsed == expected


@PROPERTY_SETTINGS
@given(st.one_of(st.integers(), st.floats(), st.booleans(), st.text(max_size=20), st.none()))
def test_converting_to_each_hyperparameter_type_is_a_value_or_a_user_error(value: object) -> None:
    for default in (3, 0.5, True, "mse"):
        result = _user_error_or(convert, "model", "key", value, default)
        if not isinstance(result, UserError):
            assert type(result) is type(default)


@PROPERTY_SETTINGS
@given(st.integers(-(10**12), 10**12), st.floats(allow_nan=False, allow_infinity=False), st.booleans())
def test_typed_values_written_as_text_convert_back(number: int, real: float, flag: bool) -> None:
    assert convert("m", "k", str(number), 1) == number
    assert convert("m", "k", repr(real), 1.0) == real
    assert convert("m", "k", str(flag).upper(), False) is flag


@PROPERTY_SETTINGS
@given(st.text(max_size=40))
@example("¹")  # isdigit() but not int(): found by a random draw in CI.
@example("٣,0")  # Arabic-Indic three: int() takes it, the option does not.
def test_list_and_seed_options_are_values_or_user_errors(text: str) -> None:
    items = _user_error_or(parse_list, text, "--models")
    if not isinstance(items, UserError):
        assert all(item and item == item.strip() for item in items)
    seeds = _user_error_or(parse_seeds, text)
    if not isinstance(seeds, UserError):
        assert all(isinstance(seed, int) and seed >= 0 for seed in seeds)


def _load(text: str) -> object:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "suite.toml"
        path.write_text(text)
        return _user_error_or(load_suite, path)


@PROPERTY_SETTINGS
@given(st.text(max_size=200))
def test_any_suite_text_is_a_suite_or_a_user_error(text: str) -> None:
    suite = _load(text)
    if not isinstance(suite, UserError):
        _user_error_or(resolve_options, suite, {})


suites = st.fixed_dictionaries(
    {},
    optional={
        "description": values,
        "models": st.lists(names, min_size=1, max_size=4, unique=True),
        "datasets": st.lists(names, min_size=1, max_size=3, unique=True),
        "seeds": st.lists(st.integers(0, 10**6), min_size=1, max_size=4, unique=True),
        "kimg": st.floats(0.001, 1e6),
        "steps": st.integers(1, 10**9),
        "n_samples": st.integers(10, 10**6),
        "eval_every": st.floats(0.001, 1e3),
        "checkpoint_every": st.floats(0.001, 1e3),
    },
)


@PROPERTY_SETTINGS
@given(suites)
def test_well_formed_suites_come_back_exactly(suite: dict[str, object]) -> None:
    # JSON's strings, numbers and arrays are valid TOML values for these types.
    text = "".join(f"{key} = {json.dumps(value, ensure_ascii=False)}\n" for key, value in suite.items())
    loaded = _load(text)
    assert loaded == {k: tuple(v) if isinstance(v, list) else v for k, v in suite.items()}
    kimg = suite.get("kimg", 40.0)
    if any(suite.get(key, 0) > kimg for key in ("eval_every", "checkpoint_every")):  # Never reached.
        with pytest.raises(UserError, match="must be at most the budget"):
            resolve_options(loaded, {})
        return
    options = resolve_options(loaded, {})
    assert options.budget.kimg == suite.get("kimg", 40.0)
    assert options.seeds == tuple(suite.get("seeds", (0,)))
