"""The model check of time inputs: a network that takes a time (a diffusion model's step, a flow's
``t``, as :class:`genbench.blocks.UNet` does) is given a time that changes along sampling, and its
output changes with it."""

from __future__ import annotations

from typing import Any

import torch

from genbench.api import DataShape, Model
from genbench.blocks.modes import eval_mode
from genbench.testing.failures import model_check, require
from genbench.testing.inputs import build, train_on_batch
from genbench.testing.network_calls import describe_time, first_step_calls, time_networks

SAMPLES = 2  # Images sampled: one step of their chain is all the check runs.


def same_output(a: Any, b: Any) -> bool:
    """Whether two outputs of a network are equal: tensors (or tuples of them) with equal values."""
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        return a.shape == b.shape and torch.equal(a, b)
    if isinstance(a, tuple | list) and isinstance(b, tuple | list):
        return len(a) == len(b) and all(same_output(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


@model_check
def check_time_input(model_cls: type[Model], shape: DataShape) -> None:
    """A network whose ``forward`` takes a time (``t``, as :class:`~genbench.blocks.UNet`'s does) is
    called by ``sample`` at more than one time, and its output changes when only the time does: at
    the first sampling step's inputs, the next step's time must give another output. Skipped for
    models without such a network, and where sampling calls it once."""
    model = build(model_cls, shape)
    if not time_networks(model):
        return
    train_on_batch(model, 0)
    labels = torch.arange(SAMPLES) % shape.num_classes if model.conditional else None
    calls, later = first_step_calls(model, SAMPLES, labels)
    if not calls:
        return  # Sampling never calls the network through its module (a compiled copy, say).
    first = calls[0]
    if later is None:
        require(
            len(calls) < 2,
            "time input",
            f"sample called {first.name} {len(calls)} times, every time at {first.time_parameter}="
            f"{describe_time(first.time)}",
            f"give {first.name} each sampling step's own {first.time_parameter}",
        )
        return
    # Replayed, not compared with the recorded output, so both outputs come from the same mode.
    with torch.no_grad(), eval_mode(model):
        here, there = first.replay(), first.replay(later.time)
    require(
        not same_output(here, there),
        "time input",
        f"{first.name} gave the same output at {first.time_parameter}={describe_time(first.time)} "
        f"and at {first.time_parameter}={describe_time(later.time)}: the network ignores its time input",
        f"condition {first.name} on {first.time_parameter} (genbench.blocks.UNet adds its "
        "TimeEmbedding to every residual block)",
    )
