"""genbench.Bounds: the one bounds checker of the options (genbench.options.declaration) and the
models' hyperparameters (the built-in models' hparam_rules, and any plugin's), with one message."""

from __future__ import annotations

import math

import pytest

from genbench import Bounds, UserError
from genbench.options.declaration import count, names, number


@pytest.mark.parametrize(
    ("bounds", "value", "message"),
    [
        (Bounds(low=1), 0, "n must be at least 1, got 0"),
        (Bounds(low=0, low_open=True), 0.0, "n must be above 0, got 0.0"),
        (Bounds(high=10**9), 10**12, "n must be at most 1,000,000,000, got 1,000,000,000,000"),
        (Bounds(high=1e6), math.inf, "n must be at most 1e+06, got inf"),
        (Bounds(low=0, high=1, high_open=True), 1.0, "n must be below 1, got 1.0"),
        (Bounds(finite=True), -math.inf, "n must be finite, got -inf"),
        (Bounds(low=0, high=1, high_open=True, what="in [0, 1)"), -0.5, "n must be in [0, 1), got -0.5"),
        (Bounds(low=0, low_open=True, what="positive"), math.nan, "n must be a number, got nan"),
    ],
)
def test_a_value_outside_is_one_message_saying_what_it_must_be(
    bounds: Bounds, value: float, message: str
) -> None:
    with pytest.raises(UserError) as refused:
        bounds.check("n", value)
    assert str(refused.value) == message


def test_the_ends_are_included_unless_open() -> None:
    assert Bounds(low=1, high=3).problem(1) is None and Bounds(low=1, high=3).problem(3) is None
    assert Bounds(low=0, high=1, high_open=True).problem(0.0) is None
    assert Bounds(low=0, low_open=True).problem(0) == "above 0"
    assert Bounds().problem(math.inf) is None and Bounds().problem(math.nan) == "a number"


def test_the_options_checks_are_bounds_with_their_messages() -> None:
    with pytest.raises(UserError, match=r"^--kimg must be positive, got -1\.0$"):
        number(1e6)("--kimg", -1.0)
    with pytest.raises(UserError, match=r"^--kimg must be at most 1e\+06, got 1e\+300$"):
        number(1e6)("--kimg", 1e300)
    with pytest.raises(UserError, match=r"^--n-eval must be at least 10, got 3$"):
        count(10, 10**5)("--n-eval", 3)
    with pytest.raises(UserError, match=r"^--seeds values must be at most 4,294,967,295, got 4,294,967,296$"):
        names(high=2**32 - 1)("--seeds", (0, 2**32))
    names()("--models", ("dcgan", "vae"))  # Names have no bound.
