"""What a model's sampler asks of its time-taking networks: the calls ``sample`` makes to each network
whose ``forward`` takes a time (a parameter named as in :data:`TIME_PARAMETERS`, as
:class:`genbench.blocks.UNet`'s ``t`` is), recorded for the checks of time and guidance.

Recording stops at the first call of the first network at another time than its first call's: one
sampling step is all those checks need, and stopping there keeps them to a few network evaluations
instead of a whole sampling chain (50 steps for the built-in diffusion models).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from genbench.api import Model

# Names a network's forward gives its time or noise level: genbench.blocks.UNet's and diffusers'.
TIME_PARAMETERS = ("t", "time", "timestep", "timesteps")
SHOWN_VALUES = 4  # Values of a time listed in a message; the rest are elided.


@dataclass
class NetworkCall:
    """One call of a time-taking network: its inputs (tensors copied as they were) and output."""

    name: str  # The network's attribute path in the model ("ema.network").
    module: nn.Module
    inputs: inspect.BoundArguments
    time_parameter: str
    output: Any = None

    @property
    def time(self) -> Any:
        """The time this call gave the network."""
        return self.inputs.arguments[self.time_parameter]

    def replay(self, time: Any = None) -> Any:
        """The network's output for the same inputs, at ``time`` instead when given."""
        arguments = dict(self.inputs.arguments)
        if time is not None:
            arguments[self.time_parameter] = time
        inputs = inspect.BoundArguments(self.inputs.signature, arguments)
        return self.module(*inputs.args, **inputs.kwargs)


class _NextStep(Exception):
    """Raised from a hook to stop sampling once the first step's calls are recorded."""


def time_parameter(module: nn.Module) -> str | None:
    """The name ``module.forward`` gives its time input, or None when it takes none."""
    try:
        parameters = inspect.signature(module.forward).parameters
    except (TypeError, ValueError):  # A forward inspect cannot read (a C extension's): no time seen.
        return None
    return next((name for name in TIME_PARAMETERS if name in parameters), None)


def time_networks(model: nn.Module) -> dict[str, tuple[nn.Module, str]]:
    """Each outermost submodule of ``model`` taking a time: its path -> (module, time parameter). Not
    the modules inside one (a UNet's TimeEmbedding takes ``t`` too, and would vouch for a UNet that
    drops its embedding)."""
    found: dict[str, tuple[nn.Module, str]] = {}
    for name, module in model.named_modules():
        if any(name.startswith(f"{outer}.") for outer in found):
            continue
        parameter = time_parameter(module) if name else None  # The model itself is no network.
        if parameter:
            found[name] = (module, parameter)
    return found


def same_time(a: Any, b: Any) -> bool:
    """Whether two times are equal: tensors of one shape with equal values, or equal numbers."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        both = isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)
        return both and a.shape == b.shape and torch.equal(a, b)
    return bool(a == b)


def describe_time(time: Any) -> str:
    """A time for a message: ``t=999`` for a constant batch, else its first few values."""
    if not isinstance(time, torch.Tensor):
        return repr(time)
    values = time.detach().flatten().tolist()
    if values and all(v == values[0] for v in values):
        return f"{values[0]:g}" + (f" (x{len(values)})" if len(values) > 1 else "")
    shown = ", ".join(f"{v:g}" for v in values[:SHOWN_VALUES])
    return f"[{shown}{', ...' if len(values) > SHOWN_VALUES else ''}]"


def _copied(value: Any) -> Any:
    """``value``, a tensor detached and copied: a sampler may update its inputs in place later."""
    return value.detach().clone() if isinstance(value, torch.Tensor) else value


def first_step_calls(
    model: Model, n: int, labels: torch.Tensor | None, seed: int = 0
) -> tuple[list[NetworkCall], NetworkCall | None]:
    """The calls ``model.sample(n, generator seeded with seed, labels)`` makes to its time-taking
    networks at the first network's first time, and the first call of that network at another time
    (None when sampling ended first); sampling stops there."""
    calls: list[NetworkCall] = []
    later: list[NetworkCall] = []

    def before(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        name, parameter = names[id(module)]
        bound = inspect.signature(module.forward).bind(*args, **kwargs)
        copied = {key: _copied(value) for key, value in bound.arguments.items()}
        call = NetworkCall(name, module, inspect.BoundArguments(bound.signature, copied), parameter)
        if calls and module is calls[0].module and not same_time(call.time, calls[0].time):
            later.append(call)
            raise _NextStep
        calls.append(call)

    def after(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any], output: Any) -> None:
        calls[-1].output = _copied(output)

    networks = time_networks(model)
    names = {id(module): (name, parameter) for name, (module, parameter) in networks.items()}
    hooks = [m.register_forward_pre_hook(before, with_kwargs=True) for m, _ in networks.values()]
    hooks += [m.register_forward_hook(after, with_kwargs=True) for m, _ in networks.values()]
    try:
        model.sample(n, torch.Generator().manual_seed(seed), labels)
    except _NextStep:
        pass
    finally:
        for hook in hooks:
            hook.remove()
    return calls, (later[0] if later else None)
