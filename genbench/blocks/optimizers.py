"""The built-in models' optimizers, in their fastest implementation for where the weights live.

The multi-tensor forms update every weight of a network in a few kernels instead of a handful per
weight: ``fused`` (one kernel) on CUDA, ``foreach`` elsewhere. They compute the same update as the
per-weight loop, up to float rounding. Models are built on the runner's device, so the weights'
device is known when the optimizer is made.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import nn


def _fastest(parameters: list[nn.Parameter], fused: bool) -> dict[str, Any]:
    on_cuda = bool(parameters) and all(p.device.type == "cuda" for p in parameters)
    if on_cuda and fused:
        return {"fused": True}
    return {"foreach": True}


def adam(
    parameters: Iterable[nn.Parameter], lr: float, betas: tuple[float, float] = (0.9, 0.999)
) -> torch.optim.Adam:
    """Adam, fused on CUDA and foreach elsewhere."""
    parameters = list(parameters)
    return torch.optim.Adam(parameters, lr, betas, **_fastest(parameters, fused=True))


def rmsprop(parameters: Iterable[nn.Parameter], lr: float) -> torch.optim.RMSprop:
    """RMSProp (PyTorch's defaults but ``lr``), foreach: PyTorch has no fused RMSProp."""
    parameters = list(parameters)
    return torch.optim.RMSprop(parameters, lr=lr, **_fastest(parameters, fused=False))
