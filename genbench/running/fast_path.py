"""The runner's fast path: what it does to every model's training step without changing its math.

- Precision: ``--precision fp32`` runs the step as the plugin wrote it; ``bf16`` runs it under bf16
  autocast (matrix products and convolutions in bf16, weights, optimizer states and losses that
  autocast keeps in float32 stay float32). ``auto`` (the default) is bf16 for a model that declares
  ``bf16_safe`` on CUDA and on a CPU with bf16 hardware (AMX or AVX-512 BF16, which
  genbench.running.device detects and names in the record's device), float32 otherwise: on a CPU
  without it bf16 is emulated and slower, so auto stays float32 there.
- Layout: a model that declares ``channels_last`` gets its weights, optimizer states and batches in
  channels-last memory format (the same values) on CUDA (faster convolutions on tensor cores) and in a
  bf16 run on a CPU with bf16 hardware (issue 22 measured dcgan's bf16 CPU step 1.3x faster with it).
- Capture: on CUDA, a model that declares ``capturable`` gets its whole step recorded in one CUDA graph
  and replayed (genbench.running.capture); any other step runs eagerly, with one line saying why.

The data already lives on the device and the loop reads the step's scalars only every few steps
(genbench.core.batches, genbench.running.training); the optimizers are fused (CUDA) or foreach
(CPU) where the plugin builds them, as the built-in models do.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from genbench.api import Model
from genbench.running.capture import GraphStep, capture_refusal
from genbench.running.device import cpu_bf16_hardware

Batch = tuple[torch.Tensor, torch.Tensor]
Logs = dict[str, torch.Tensor]


def resolve_precision(requested: str, device: torch.device, model_cls: type[Model]) -> str:
    """``fp32`` or ``bf16``: ``requested`` itself, or for ``auto`` bf16 where the model declares it
    safe and the device runs bf16 in hardware (a GPU, or a CPU with AMX or AVX-512 BF16)."""
    if requested != "auto":
        return requested
    return "bf16" if model_cls.bf16_safe and _bf16_in_hardware(device) else "fp32"


def _bf16_in_hardware(device: torch.device) -> bool:
    return device.type == "cuda" or (device.type == "cpu" and cpu_bf16_hardware() is not None)


def wants_channels_last(model_cls: type[Model], device: torch.device, precision: str) -> bool:
    """Whether the step runs channels-last: for a model that declares it, on CUDA, and on a CPU in a
    bf16 run with bf16 hardware (a float32 or emulated-bf16 CPU step stays as the plugin wrote it)."""
    if not model_cls.channels_last:
        return False
    return device.type == "cuda" or (precision == "bf16" and _bf16_in_hardware(device))


@dataclass(frozen=True)
class StepOptions:
    """How the loop runs a model's steps; the default is the plain float32 eager step."""

    precision: str = "fp32"  # Resolved: "fp32" or "bf16".
    capture: bool = True  # Capture the step in a CUDA graph where the model and device allow it.
    announce: Callable[[str], None] = field(default=lambda message: None, compare=False)


def use_channels_last(model: Model) -> None:
    """Weights and the optimizers' per-weight states of a 4-d kernel in channels-last format (the same
    values: only their order in memory changes). Fused and foreach optimizers need a weight and its
    states in one layout, and a resumed run's states were loaded in the default one."""
    layout = torch.channels_last
    model.to(memory_format=layout)
    for optimizer in model.optimizers.values():
        for parameter, state in optimizer.state.items():
            for key, value in state.items():
                if isinstance(value, torch.Tensor) and value.dim() == 4 and value.shape == parameter.shape:
                    state[key] = value.contiguous(memory_format=layout)


class Stepper:
    """Runs a model's training steps the fastest way it allows: eagerly (CPU, or a model that cannot be
    captured) or as replays of a CUDA graph of ``step_period`` steps after a few eager warm-up steps."""

    def __init__(self, model: Model, device: torch.device, options: StepOptions) -> None:
        self.model, self.device, self.options = model, device, options
        self.channels_last = wants_channels_last(type(model), device, options.precision)
        if self.channels_last:
            use_channels_last(model)
        self.graph: GraphStep | None = None
        refusal = capture_refusal(model, device) if options.capture else "not asked for"
        if refusal is None:
            self.graph = GraphStep(model, self._eager_step, lambda: self._autocast(cache=False))
        elif device.type == "cuda":
            options.announce(f"{model.name}: training step not captured in a CUDA graph ({refusal}); eager")

    @property
    def period(self) -> int:
        """Steps one call of :meth:`steps` takes at most."""
        return self.graph.period if self.graph is not None else 1

    def block(self, steps_done: int, steps_left: int) -> int:
        """How many steps to take now: a whole graph period once captured (or capturable) at a step
        count that is a multiple of it with that many steps of the budget left, else one."""
        graph = self.graph
        if graph is None or not graph.ready or steps_left < graph.period or steps_done % graph.period:
            return 1
        return graph.period

    def steps(self, batches: list[Batch]) -> list[Logs]:
        """Take one step per batch; returns each step's scalar logs (tensors on the device)."""
        batches = [(self._layout(images), labels) for images, labels in batches]
        if self.graph is not None:
            logs = self.graph.steps(batches)
            if self.graph.failure is not None:  # Announced once, then every step runs eagerly.
                self.options.announce(f"{self.model.name}: {self.graph.failure}; training eagerly")
                self.graph = None
            if logs is not None:
                return logs
        with self._autocast():
            return [self._eager_step(images, labels) for images, labels in batches]

    def _eager_step(self, images: torch.Tensor, labels: torch.Tensor) -> Logs:
        return self.model.train_step(images, labels)

    def _layout(self, images: torch.Tensor) -> torch.Tensor:
        return images.contiguous(memory_format=torch.channels_last) if self.channels_last else images

    def _autocast(self, cache: bool = True) -> contextlib.AbstractContextManager[object]:
        """bf16 autocast, or nothing for float32 (the plugin's step untouched). A CUDA graph needs the
        autocast cache off: cached casts would be tensors from outside the graph's memory."""
        if self.options.precision != "bf16":
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=torch.bfloat16, cache_enabled=cache)
