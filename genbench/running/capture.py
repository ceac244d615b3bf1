"""A model's whole training step recorded in one CUDA graph and replayed: both networks' forward and
backward passes, every optimizer update and the noise, with one launch instead of hundreds.

A model declares ``capturable`` when its ``train_step`` never waits for the device (no ``.item()``,
no branching on a tensor's value) and creates its tensors on the inputs' device; the default CUDA
generator's draws (latents, dropout, penalty interpolates) advance with every replay. A step whose
Python control flow repeats only after ``step_period`` calls (a critic updated ``n_critic`` times per
generator update) is captured as that many calls, on as many batches, starting at a multiple of the
period. Python state a step changes (such a model's critic-step counter) is changed once, at capture,
so it must matter only modulo the period.

How it goes: ``WARMUP_PERIODS`` periods of eager steps on a side stream (optimizer states are created
there, not in the graph), then one capture on static input tensors, then for every later period the
batches are copied into those tensors and the graph replayed; the logs are copied out of the graph's
outputs. A capture that fails leaves the model as before (its Python scalars restored) and every later
step runs eagerly; :attr:`GraphStep.failure` says why. ``GENBENCH_CAPTURE=0`` (or false, no, off) turns
capture off.

Untested here on a GPU: genbench's CI has none. Everything this module does is guarded by the device
being CUDA; a CPU run never reaches it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable

import torch

from genbench.api import Model
from genbench.errors import one_line
from genbench.options.environment import CAPTURE_ENV, capture_allowed

WARMUP_PERIODS = 3  # Eager periods before capture, as PyTorch's CUDA graph examples warm up.

Batch = tuple[torch.Tensor, torch.Tensor]
Logs = dict[str, torch.Tensor]
StepFn = Callable[[torch.Tensor, torch.Tensor], Logs]


def capture_refusal(model: Model, device: torch.device) -> str | None:
    """Why ``model``'s step is not captured on ``device``; None when it is."""
    if device.type != "cuda":
        return "CUDA graphs need a CUDA device"
    if not capture_allowed():
        return f"${CAPTURE_ENV}={os.environ[CAPTURE_ENV]}"
    if not model.capturable:
        return f"'{model.name}' does not declare its step capturable"
    if model.step_period < 1:
        return f"'{model.name}' has step_period {model.step_period}"
    return None


def make_capturable(model: Model) -> None:
    """Every optimizer safe to capture: its step counts become device tensors (moved there if a
    resumed run loaded them on the CPU), so an update never reads the host."""
    for optimizer in model.optimizers.values():
        for group in optimizer.param_groups:
            if "capturable" in group:
                group["capturable"] = True
        for parameter, state in optimizer.state.items():
            step = state.get("step")
            if isinstance(step, torch.Tensor) and step.device != parameter.device:
                state["step"] = step.to(parameter.device)


class GraphStep:
    """``period`` consecutive steps of one model as one CUDA graph, after eager warm-up steps."""

    def __init__(
        self, model: Model, step: StepFn, autocast: Callable[[], contextlib.AbstractContextManager[object]]
    ) -> None:
        self.model, self.step, self.autocast = model, step, autocast
        self.period = model.step_period
        self.warm = 0  # Warm-up steps taken.
        self.graph: torch.cuda.CUDAGraph | None = None
        self.inputs: list[Batch] = []
        self.outputs: list[Logs] = []
        self.failure: str | None = None
        make_capturable(model)

    @property
    def ready(self) -> bool:
        """Whether the next period can be captured or replayed (the warm-up is over)."""
        return self.warm >= WARMUP_PERIODS * self.period

    def steps(self, batches: list[Batch]) -> list[Logs] | None:
        """Warm-up steps, a capture and replay, or a replay; None: let the caller step eagerly (a last
        partial period, or a failed capture)."""
        if not self.ready:
            return self._warm_up(batches)
        if len(batches) != self.period:
            return None
        if self.graph is None and not self._capture(batches):
            return None
        for (images, labels), (static_images, static_labels) in zip(batches, self.inputs, strict=True):
            static_images.copy_(images)
            static_labels.copy_(labels)
        self.graph.replay()
        # The outputs are overwritten by the next replay: the loop keeps copies until it reads them.
        return [{key: value.clone() for key, value in logs.items()} for logs in self.outputs]

    def _warm_up(self, batches: list[Batch]) -> list[Logs]:
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side), self.autocast():
            logs = [self.step(images, labels) for images, labels in batches]
        torch.cuda.current_stream().wait_stream(side)
        self.warm += len(batches)
        return logs

    def _capture(self, batches: list[Batch]) -> bool:
        """Record ``period`` steps on static copies of ``batches``; False (with :attr:`failure`) when the
        step cannot be captured."""
        scalars = {k: v for k, v in vars(self.model).items() if isinstance(v, int | float | bool)}
        self.inputs = [(images.clone(), labels.clone()) for images, labels in batches]
        graph = torch.cuda.CUDAGraph()
        try:
            with torch.cuda.graph(graph), self.autocast():
                self.outputs = [self.step(images, labels) for images, labels in self.inputs]
        except Exception as error:  # Any reason at all: the run goes on eagerly.
            vars(self.model).update(scalars)  # The capture ran the step's Python once: undo it.
            for optimizer in self.model.optimizers.values():
                optimizer.zero_grad(set_to_none=True)
            self.failure = f"CUDA graph capture failed ({one_line(error, 200)})"
            self.inputs, self.outputs = [], []
            return False
        self.graph = graph
        return True
