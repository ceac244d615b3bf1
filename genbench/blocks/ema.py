"""An exponential moving average (EMA) of a network's weights, the copy diffusion and flow models sample
with: Ho et al. (2020, section 4) sample with an EMA of decay 0.9999, and so do Song et al. (2021,
score SDEs) and most of their successors, because it smooths the last steps' noise out of the weights.

:class:`EMA` is an ``nn.Module`` holding a deep copy of the network: as a submodule of the model it
is in ``state_dict`` (and so in every checkpoint), moves with ``.to(device)`` and resumes exactly.
After each optimizer step the model calls :meth:`EMA.update`::

    self.ema = EMA(self.net, decay=0.999)
    ...
    optimizer.step()
    self.ema.update()
    ...
    images = self.ema.network(noise, t)  # Sampling uses the average, not the trained weights.

With ``warmup`` the decay of update ``n`` (counted from 0) is ``min(decay, (1 + n) / (10 + n))``, the
ramp of TensorFlow's ``ExponentialMovingAverage(num_updates=...)``: early averages forget the random
initialisation within tens of steps instead of the ``1 / (1 - decay)`` steps a constant decay needs,
which matters for the short budgets genbench runs.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class EMA(nn.Module):
    """An exponential moving average of ``network``'s parameters, kept in :attr:`network` (a deep
    copy, frozen: it has no gradients and belongs in no optimizer).

    Each :meth:`update` sets ``average <- d * average + (1 - d) * weights`` with ``d = decay`` or, with
    ``warmup``, ``d = min(decay, (1 + n) / (10 + n))`` at the ``n``-th update. Buffers (batch norm's
    running statistics) are copied, not averaged. The update count is a buffer, so a restored
    checkpoint continues the same ramp. The update runs on the device in a few kernels with no host
    synchronisation: the decay is computed as a tensor.
    """

    num_updates: torch.Tensor  # A buffer: saved with the average, so a resumed ramp goes on where it was.

    def __init__(self, network: nn.Module, decay: float = 0.999, warmup: bool = True) -> None:
        super().__init__()
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"EMA decay must lie in [0, 1), got {decay}")
        self.decay = decay
        self.warmup = warmup
        self.network = copy.deepcopy(network).requires_grad_(False)
        self.register_buffer("num_updates", torch.zeros((), dtype=torch.int64))
        # Not a submodule: the owner saves and moves its own network; registering it here would save
        # every weight twice in state_dict.
        self.__dict__["_source"] = network

    @property
    def source(self) -> nn.Module:
        """The trained network this average follows."""
        return self.__dict__["_source"]

    def current_decay(self) -> torch.Tensor:
        """The decay the next :meth:`update` applies, a 0-dim float32 tensor on the buffers' device."""
        decay = self.num_updates.new_full((), self.decay, dtype=torch.float32)
        if not self.warmup:
            return decay
        n = self.num_updates.to(torch.float32)
        return torch.minimum(decay, (1 + n) / (10 + n))

    @torch.no_grad()
    def update(self) -> None:
        """Move the average towards the source network's current weights; call after each optimizer
        step."""
        weight = 1 - self.current_decay()  # lerp_(w, 1 - d) = d * average + (1 - d) * w.
        averaged = dict(self.network.named_parameters())
        for name, parameter in self.source.named_parameters():
            average = averaged[name]
            average.lerp_(parameter.detach().to(average.dtype), weight.to(average.dtype))
        copies = dict(self.network.named_buffers())
        for name, buffer in self.source.named_buffers():
            copies[name].copy_(buffer)
        self.num_updates.add_(1)

    @torch.no_grad()
    def reset(self) -> None:
        """Restart the average at the source's current weights, with the ramp from its start."""
        self.network.load_state_dict(self.source.state_dict())
        self.num_updates.zero_()

    def forward(self, *args: object, **kwargs: object) -> object:
        """The averaged network's output: ``ema(x, ...)`` is ``ema.network(x, ...)``."""
        return self.network(*args, **kwargs)

    def extra_repr(self) -> str:
        return f"decay={self.decay}, warmup={self.warmup}"
