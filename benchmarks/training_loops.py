"""The three training loops that benchmarks/speed.py compares, each continuing where its last call left off.

(a) :class:`CommonLoop`: the loop users write today (per-image transforms, a shuffled DataLoader,
    ``.item()`` every step, float32, PyTorch's default optimizer kernels).
(b) :class:`GenbenchLoop`: genbench's training loop (``genbench.running.training.train``) in the
    precision a run resolves (``--precision auto``: bf16 autocast and channels-last where the model
    declares them and the device runs bf16 in hardware), with its closing held-out estimate timed apart.
(c) :class:`BareLoop`: the same step as (b), in the same precision and memory layout, on the same
    device-resident batches, with nothing around it: b/c is what the loop adds.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import torch

from genbench.api import DataShape, Model, Split
from genbench.core.batches import DeviceBatches
from genbench.core.progress import SilentProgress
from genbench.core.run_spec import Budget, TrainingSpec
from genbench.running import training
from genbench.running.fast_path import resolve_precision, use_channels_last, wants_channels_last
from genbench.running.train_state import TrainState
from genbench.running.training import LogOnlyHooks, train

WARMUP_STEPS = 5


def clock(device: torch.device) -> float:
    """Wall-clock seconds on CUDA (the device's time is what counts); on a CPU, the process's CPU
    seconds: robust to other processes' load on a shared machine, and the wall-clock time of an idle
    machine when torch runs one thread (the results file gives the thread count)."""
    return time.perf_counter() if device.type == "cuda" else time.process_time()


def build(cls: type[Model], shape: DataShape, device: torch.device) -> Model:
    """The model built with seed 0 on ``device``, in training mode."""
    torch.manual_seed(0)
    with torch.device(device):
        model = cls.build(shape)
    return model.to(device).train()


def _default_optimizers(model: Model) -> None:
    """PyTorch's default optimizer kernels, as the common scripts get them (no fused/foreach asked)."""
    for name, optimizer in model.optimizers.items():
        defaults = {**optimizer.defaults, "foreach": None}
        if "fused" in defaults:
            defaults["fused"] = None
        params = [p for group in optimizer.param_groups for p in group["params"]]
        model.optimizers[name] = type(optimizer)(params, **defaults)


class CommonLoop:
    """(a): per-image transforms, a shuffled DataLoader, ``.item()`` every step, float32."""

    def __init__(
        self, cls: type[Model], shape: DataShape, device: torch.device, torchvision_set: Any
    ) -> None:
        self.model, self.device = build(cls, shape, device), device
        _default_optimizers(self.model)
        self.batch = self.model.hparams.batch_size
        loader = torch.utils.data.DataLoader(
            torchvision_set, batch_size=self.batch, shuffle=True, drop_last=True
        )
        self.stream = (batch for _ in iter(int, 1) for batch in loader)  # Epoch after epoch.
        self.run(WARMUP_STEPS)

    def run(self, steps: int) -> None:
        """Take ``steps`` steps."""
        for _ in range(steps):
            images, labels = next(self.stream)
            logs = self.model.train_step(images.to(self.device), labels.to(self.device))
            _ = {key: value.item() for key, value in logs.items()}  # What the scripts print or log.


class GenbenchLoop:
    """(b): genbench's training loop in the run's resolved precision; each call continues the last.

    Every ``train()`` call closes with a held-out estimate on the test split, as a run does at each of
    its 11 estimate points; its :func:`clock` seconds are summed in :attr:`estimate_seconds` (its
    wall-clock seconds in :attr:`estimate_wall`) so that the comparison can take them out of (b) and
    give the loop's own overhead."""

    def __init__(
        self,
        cls: type[Model],
        shape: DataShape,
        device: torch.device,
        train_split: Split,
        test: Split,
        precision: str = "auto",
    ) -> None:
        self.model, self.device = build(cls, shape, device), device
        self.batch = self.model.hparams.batch_size
        self.precision = resolve_precision(precision, device, cls)
        self.batches = DeviceBatches(train_split, device, seed=0)
        self.test, self.state = test, TrainState()
        self.estimate_seconds, self.estimate_wall, self.estimates = 0.0, 0.0, 0
        self.run(WARMUP_STEPS)  # Through the loop: it lays the model out (channels-last) as a run does.
        self.estimate_seconds, self.estimate_wall, self.estimates = 0.0, 0.0, 0

    def run(self, steps: int) -> None:
        """Take ``steps`` steps through ``train()``: a budget of steps, its kimg out of reach, so no
        estimate point falls inside; one closing estimate, timed apart."""
        self.state.stopped_by = None
        with mock.patch.object(training, "_test_estimates", self._timed(training._test_estimates)):
            train(
                self.model,
                self.batches,
                self.test,
                TrainingSpec(Budget(kimg=1e6, steps=self.state.steps + steps), precision=self.precision),
                LogOnlyHooks(lambda row: None, announce=print),
                SilentProgress(),
                self.state,
            )

    def _timed(self, estimate: Callable[..., dict[str, float]]) -> Callable[..., dict[str, float]]:
        def timed_estimate(*args: Any, **kwargs: Any) -> dict[str, float]:
            started, wall = clock(self.device), time.perf_counter()
            try:
                return estimate(*args, **kwargs)
            finally:
                self.estimate_seconds += clock(self.device) - started
                self.estimate_wall += time.perf_counter() - wall
                self.estimates += 1

        return timed_estimate


class BareLoop:
    """(c): the plain step on the same device-resident batches, in (b)'s resolved precision and memory
    layout (bf16 autocast, channels-last weights and batches where (b) uses them), nothing around it."""

    def __init__(
        self,
        cls: type[Model],
        shape: DataShape,
        device: torch.device,
        train_split: Split,
        precision: str = "auto",
    ) -> None:
        self.model, self.device = build(cls, shape, device), device
        self.batch = self.model.hparams.batch_size
        self.precision = resolve_precision(precision, device, cls)
        self.channels_last = wants_channels_last(cls, device, self.precision)
        if self.channels_last:
            use_channels_last(self.model)
        self.batches = DeviceBatches(train_split, device, seed=0)
        self.run(WARMUP_STEPS)

    def run(self, steps: int) -> None:
        """Take ``steps`` steps."""
        with self._autocast():
            for _ in range(steps):
                images, labels = self.batches.next(self.batch)
                if self.channels_last:
                    images = images.contiguous(memory_format=torch.channels_last)
                self.model.train_step(images, labels)

    @contextlib.contextmanager
    def _autocast(self) -> Iterator[None]:
        if self.precision != "bf16":
            yield
            return
        with torch.autocast(self.device.type, dtype=torch.bfloat16):
            yield
