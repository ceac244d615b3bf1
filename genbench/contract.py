"""The rules of the plugin contract that the runner also enforces while benchmarking, with their messages.

:mod:`genbench.testing` checks a plugin against the whole contract in its author's tests; the runner
applies the rules it can afford at run time (logs that are not tensors, samples outside [-1, 1]) with
the same words, so the author reads one explanation wherever the problem shows up first.

The checks themselves are in :mod:`genbench.testing` (which imports this module, never the reverse).
"""

from __future__ import annotations

import inspect
import numbers
import re
from typing import Literal

import torch

from genbench.api import Dataset, DataShape, Model
from genbench.tracking import Tracker

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")  # A plugin's registered name.
Kind = Literal["model", "dataset", "tracker"]
BASES: dict[str, type] = {"model": Model, "dataset": Dataset, "tracker": Tracker}  # What a kind subclasses.

SAMPLE_LOW, SAMPLE_HIGH = -1.0, 1.0  # Models give images in [-1, 1]; genbench quantises that to uint8.


def log_value_problem(what: str, key: str, value: object) -> str | None:
    """Why ``value``, logged under ``key`` by ``what`` (``"train_step"``, ``"estimate"``), is not a
    detached scalar tensor, and what to return instead; None when it is one."""
    if isinstance(value, numbers.Number):
        return (
            f"{what} returned '{key}' as a Python {type(value).__name__} ({value!r}), not a tensor; "
            f"return loss.detach(), not loss.item(): reading a number waits for the device every step"
        )
    if not isinstance(value, torch.Tensor):
        return (
            f"{what} returned '{key}' as a {type(value).__name__}, not a tensor; "
            f"return a dict of scalar tensors, e.g. {{'{key}': loss.detach()}}"
        )
    if value.ndim != 0:
        return (
            f"{what} returned '{key}' as a tensor of shape {tuple(value.shape)}, not a scalar; "
            f"return its mean: {key}.mean().detach()"
        )
    if value.requires_grad:
        return f"{what} returned '{key}' still attached to the graph (requires grad); return loss.detach()"
    return None


def count_out_of_range(images: torch.Tensor) -> torch.Tensor:
    """How many values of ``images`` lie outside [-1, 1] (NaN included), as a tensor on their device:
    counting never waits for the device."""
    inside = (images >= SAMPLE_LOW) & (images <= SAMPLE_HIGH)
    return images.numel() - inside.sum()


def out_of_range_message(what: str, fraction: float, extremes: tuple[float, float] | None = None) -> str:
    """The message for images of which ``fraction`` of the values lie outside [-1, 1]."""
    seen = f" (min {extremes[0]:.3g}, max {extremes[1]:.3g})" if extremes else ""
    return (
        f"{fraction:.1%} of the values of {what} lie outside [-1, 1]{seen}; end the generator with tanh "
        "(or clamp its output): genbench clamps before scoring, which hides the error instead of fixing it"
    )


def range_problem(what: str, images: torch.Tensor) -> str | None:
    """The out-of-range message for ``images`` (waits for the device), or None when all lie in [-1, 1]."""
    outside = int(count_out_of_range(images))
    if not outside:
        return None
    finite = images[torch.isfinite(images)]
    extremes = (float(finite.min()), float(finite.max())) if finite.numel() else None
    return out_of_range_message(what, outside / images.numel(), extremes)


def class_problem(kind: Kind, obj: object) -> str | None:
    """Why ``obj`` cannot be registered as a ``kind``: not a genbench class, an invalid ``name``, a
    dataset without ``shape``, a tracker that leaves a method unwritten; None when it can."""
    base = BASES[kind]
    if not (isinstance(obj, type) and issubclass(obj, base)):
        return f"registered {obj!r} as a {kind}, but it is not a genbench.{base.__name__} subclass"
    name = getattr(obj, "name", None)
    if not isinstance(name, str) or not NAME_RE.match(name):
        return (
            f"registered {kind} class {obj.__qualname__} with invalid name {name!r}: "
            "use lowercase letters, digits, '-' and '_'"
        )
    if kind == "dataset" and not isinstance(getattr(obj, "shape", None), DataShape):
        return f"registered dataset '{name}' without a `shape` (a genbench.DataShape class attribute)"
    if kind == "tracker" and inspect.isabstract(obj):
        missing = ", ".join(sorted(getattr(obj, "__abstractmethods__", ())))
        return f"registered tracker '{name}' without {missing}: a tracker implements start, log_row and end"
    return None
