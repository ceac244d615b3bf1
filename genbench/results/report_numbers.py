"""How the report writes numbers: short enough for a table that fits a laptop's width, exact in its
tooltips, and an interval only where there is one."""

from __future__ import annotations

import math

from genbench.results.statistics import SeedSummary

MEAN_DIGITS = 4  # Significant digits of a value or mean, as the terminal's summary writes them.
SPREAD_DIGITS = 2  # Of an interval's half-width.
_PLAIN = (1e-3, 1e5)  # Magnitudes written without an exponent.


def number(value: float, digits: int = MEAN_DIGITS) -> str:
    """``value`` to ``digits`` significant digits, without an exponent between 0.001 and 100000
    (``12350``, ``9.75``, ``0.0123``), else as ``2.7e6``; integers as they are."""
    if not math.isfinite(value):
        return str(value)
    if float(value).is_integer() and abs(value) < 10**digits:
        return str(int(value))
    size = abs(value)
    if _PLAIN[0] <= size < _PLAIN[1]:
        if size >= 10 ** (digits - 1):  # 12345.6 to 4 digits: 12350, not 1.235e+04.
            return str(int(round(value, digits - 1 - math.floor(math.log10(size)))))
        return f"{value:.{digits}g}"
    mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".") if "." in mantissa else mantissa
    return f"{mantissa}e{int(exponent)}"


def spread(summary: SeedSummary) -> str:
    """The interval of a summary as text: ``± 3.2`` where it is symmetric about the mean, ``[lo, hi]``
    where not, and why there is none with fewer than two seeds."""
    if summary.lo is None or summary.hi is None:
        return "1 seed: no interval" if summary.n == 1 else "no values"
    below, above = summary.mean - summary.lo, summary.hi - summary.mean
    if math.isclose(below, above, rel_tol=1e-9, abs_tol=1e-12 * max(1.0, abs(summary.mean))):
        return f"± {number(above, SPREAD_DIGITS)}"
    return f"[{number(summary.lo)}, {number(summary.hi)}]"


def interval_note(summary: SeedSummary) -> str:
    """A summary in full, for a tooltip: the interval's ends, its method and every seed's value."""
    values = ", ".join(repr(v) for v in summary.values)
    if summary.lo is None or summary.hi is None:
        return f"{summary.n} seed(s): {values}; no interval is possible"
    return f"{summary.method}: {summary.lo!r} to {summary.hi!r}; {summary.n} seeds: {values}"
