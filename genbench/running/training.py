"""The training loop: one model, one budget. Every model of a run goes through this same loop.

It takes the model, its data and the training part of the run's spec (genbench.core.run_spec.
TrainingSpec: budget, schedule, precision) and nothing else. Besides optimisation steps, the loop does
a few things at fixed points of the budget, counted in images shown so that a resumed run does them at
exactly the same points as one that never stopped: held-out estimates, samples of fixed latents (the
progress strip), the cheap metric (``--eval-every``) and resume checkpoints (``--checkpoint-every``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Generator
from typing import Any, Protocol

import torch

from genbench.api import Model, Split
from genbench.contract import log_value_problem
from genbench.core.batches import DeviceBatches
from genbench.core.images import to_unit_range
from genbench.core.progress import ProgressSink
from genbench.core.run_spec import TrainingSpec
from genbench.errors import Diverged, Interrupted
from genbench.running.fast_path import StepOptions, Stepper
from genbench.running.phase_timer import (
    CHECKPOINT_PHASE,
    EVAL_PHASE,
    PICTURES_PHASE,
    TRACKING_PHASE,
    PhaseTimer,
)
from genbench.running.resume import checkpoint_payload, preserved_rng
from genbench.running.sampling_cost import SamplingCost
from genbench.running.stages import STEPPED, Stage, drive
from genbench.running.trackers import Trackers
from genbench.running.train_state import TrainResult, TrainState

# Held-out estimates are computed at this many evenly spaced points of the budget (and at the end),
# on at most this many test images, so their cost does not grow with the budget.
TEST_ESTIMATE_POINTS = 10
TEST_ESTIMATE_IMAGES = 1024
# Samples of the fixed latents are taken at the start, at this many points and at the end.
SNAPSHOT_POINTS = 10


class TrainingHooks(Protocol):
    """What the loop asks of the run it belongs to."""

    def write_logs(self, row: dict[str, float]) -> None:
        """Record one row of logs (``train.jsonl``)."""

    def save_checkpoint(self, payload: dict[str, Any]) -> None:
        """Save a resume checkpoint: ``payload`` (genbench.running.resume.checkpoint_payload) holds
        everything."""

    def snapshot(self, model: Model) -> torch.Tensor:
        """uint8 samples of the fixed latents."""

    def evaluate(self, model: Model) -> dict[str, float]:
        """The cheap metric, ``{"eval/<name>": value}``, lower is better."""

    def save_best(self, model: Model) -> None:
        """Keep the current weights as the best so far."""

    def stop_requested(self) -> bool:
        """Whether a signal asked training to stop."""

    def announce(self, message: str) -> None:
        """Say something about the run in one line (e.g. why its step runs eagerly)."""


class LogOnlyHooks:
    """Hooks that only record logs: training outside a benchmark run (tests, benchmarks/)."""

    def __init__(
        self,
        write_logs: Callable[[dict[str, float]], None],
        announce: Callable[[str], None] = lambda message: None,
    ) -> None:
        self.write_logs, self.announce = write_logs, announce

    def save_checkpoint(self, payload: dict[str, Any]) -> None:
        """No checkpoints."""

    def snapshot(self, model: Model) -> torch.Tensor:
        """No pictures: an empty batch."""
        return torch.empty(0, dtype=torch.uint8)

    def evaluate(self, model: Model) -> dict[str, float]:
        """Not used: a plain schedule has no ``eval_every``."""
        raise NotImplementedError("LogOnlyHooks cannot evaluate; leave Schedule.eval_every_kimg unset")

    def save_best(self, model: Model) -> None:
        """Nothing to keep."""

    def stop_requested(self) -> bool:
        """Never."""
        return False


def crossed(before: int, after: int, every_kimg: float | None) -> bool:
    """Whether a multiple of ``every_kimg`` thousand images lies in ``(before, after]``."""
    if every_kimg is None:
        return False
    every = every_kimg * 1000
    return math.floor(after / every) > math.floor(before / every)


def train(
    model: Model,
    batches: DeviceBatches,
    test: Split,
    spec: TrainingSpec,
    hooks: TrainingHooks,
    progress: ProgressSink,
    state: TrainState | None = None,
    trackers: Trackers | None = None,
) -> TrainResult:
    """Train ``model`` on ``batches`` until ``spec.budget`` is spent, from ``state`` (a resumed run) or
    from the start.

    Scalar logs stay on the device and are read every ``spec.schedule.log_every`` steps (one host sync
    per read), averaged over those steps and passed to ``hooks.write_logs`` with step, kimg and seconds.
    Raises :class:`Diverged` on a non-finite log and :class:`Interrupted` after checkpointing when
    ``hooks.stop_requested()``. The step runs in ``spec.precision``, captured in a CUDA graph where the
    model and device allow it (genbench.running.fast_path). ``trackers`` (``--track``) see each log row,
    snapshot and checkpoint, like ``progress`` its updates; their calls are timed apart from training.
    """
    return drive(train_stepwise(model, batches, test, spec, hooks, progress, state, trackers))


def train_stepwise(
    model: Model,
    batches: DeviceBatches,
    test: Split,
    spec: TrainingSpec,
    hooks: TrainingHooks,
    progress: ProgressSink,
    state: TrainState | None = None,
    trackers: Trackers | None = None,
) -> Generator[Stage, None, TrainResult]:
    """:func:`train`, pausing after each step (a captured block of steps) so that a pack of seeds
    (genbench.running.packing) steps its runs in turn; returns the same result."""
    state = state or TrainState()
    # Built even with nothing left to train: its stepper lays the model out for the device (channels-last)
    # as it was when an uninterrupted run went on to sample.
    loop = _Loop(model, batches, test, spec, hooks, state, trackers or Trackers())
    if state.stopped_by is None:
        yield from loop.run(progress)
    return TrainResult(
        state.steps, state.images_seen, state.seconds, state.stopped_by, state.last_logs, state.side_seconds
    )


class _Loop:
    """The loop's working variables; :meth:`run` reads top to bottom as the loop itself."""

    def __init__(
        self,
        model: Model,
        batches: DeviceBatches,
        test: Split,
        spec: TrainingSpec,
        hooks: TrainingHooks,
        state: TrainState,
        trackers: Trackers,
    ) -> None:
        self.model, self.batches, self.test, self.hooks, self.state = model, batches, test, hooks, state
        self.budget, self.schedule, self.trackers = spec.budget, spec.schedule, trackers
        self.stepper = Stepper(model, batches.device, StepOptions(spec.precision, announce=hooks.announce))
        self.batch_size = min(model.hparams.batch_size, len(batches))
        self.test_subset = _test_subset(test, batches.device)
        self.estimate_kimg = spec.budget.kimg / TEST_ESTIMATE_POINTS
        self.snapshot_kimg = spec.budget.kimg / SNAPSHOT_POINTS
        self.pending = state.pending  # Restored from a checkpoint onto the training device.
        self.pending[:] = [{k: v.to(batches.device) for k, v in logs.items()} for logs in self.pending]
        self.timer = PhaseTimer(state.seconds, batches.device, state.side_seconds)
        expensive = type(model).expensive_sampling
        self.sampling_cost = SamplingCost(
            expensive, spec.budget.kimg, spec.schedule.eval_every_kimg, hooks.announce
        )

    def run(self, progress: ProgressSink) -> Generator[Stage, None, None]:
        """Step until the budget is spent, doing at fixed points of it what the schedule asks; pauses
        after each step."""
        state = self.state
        self.model.train()
        if not state.snapshots:
            self._snapshot()
        progress.update(state.images_seen / 1000, state.steps, state.last_logs or None)
        while (stopped_by := self._stop_reason()) is None:
            before, steps_before = state.images_seen, state.steps
            self._step()
            if self._stop_reason() is not None:  # The budget is spent: the closing row logs this
                if self.hooks.stop_requested():  # step, once (a resumed run writes it after a signal here).
                    self._checkpoint()
                    raise Interrupted(f"stopped at {state.images_seen / 1000:g} kimg")
                continue
            self._at_fixed_points(before, steps_before)
            progress.update(
                state.images_seen / 1000, state.steps, state.last_logs if not self.pending else None
            )
            with self.timer.paused():  # In a pack, the other seeds' turns are not this run's seconds.
                yield STEPPED
        self._close(stopped_by)
        progress.update(state.images_seen / 1000, state.steps, state.last_logs)

    def _step(self) -> None:
        """Take one optimisation step on a batch drawn on the device (a captured step: a few)."""
        count = self.stepper.block(self.state.steps, self._steps_left())
        batches = [self.batches.next(self.batch_size) for _ in range(count)]
        self.pending.extend(self.stepper.steps(batches))
        self.state.steps += count
        self.state.images_seen += sum(images.shape[0] for images, _ in batches)

    def _at_fixed_points(self, before: int, steps_before: int) -> None:
        """What falls due between ``before`` and now: logs, estimates, the metric, snapshots, checkpoints."""
        state, schedule, after = self.state, self.schedule, self.state.images_seen

        # Read the logs now and then; estimate and evaluate at fixed points of the budget.
        estimate = crossed(before, after, self.estimate_kimg)
        evaluate = crossed(before, after, schedule.eval_every_kimg)
        read = state.steps // schedule.log_every > steps_before // schedule.log_every
        if read or estimate or evaluate:
            self._log(estimate, evaluate)

        # Sample the fixed latents for the progress strip.
        if crossed(before, after, self.snapshot_kimg):
            self._snapshot()

        # Checkpoint now and then, and before stopping when a signal asks to.
        stop = self.hooks.stop_requested()
        if crossed(before, after, schedule.checkpoint_every_kimg) or stop:
            self._checkpoint()
        if stop:
            raise Interrupted(f"stopped at {after / 1000:g} kimg")

    def _close(self, stopped_by: str) -> None:
        """Close with the logs of the last steps, estimates on the whole test split and a last snapshot."""
        state = self.state
        self._log(
            estimate=False, evaluate=self.schedule.eval_every_kimg is not None, test=_all_test(self.test)
        )
        if state.snapshots[-1][0] < state.images_seen / 1000:
            self._snapshot()
        state.stopped_by = stopped_by
        self._checkpoint()

    def _steps_left(self) -> int:
        """Steps before the budget's images or steps run out (its seconds cannot be foreseen)."""
        left = math.ceil((self.budget.images - self.state.images_seen) / self.batch_size)
        return left if self.budget.steps is None else min(left, self.budget.steps - self.state.steps)

    def _stop_reason(self) -> str | None:
        self.state.seconds = self.timer.optimising()
        return self.budget.stop_reason(self.state.images_seen, self.state.steps, self.state.seconds)

    def _log(
        self, estimate: bool, evaluate: bool, test: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> None:
        """Write one log row: the mean of the pending steps' scalars, plus estimates and the metric."""
        state = self.state
        row = _mean_logs(self.pending)
        self.pending.clear()
        bad = sorted(key for key, value in row.items() if not math.isfinite(value))
        if bad:
            raise Diverged(f"{', '.join(bad)} became non-finite at {state.images_seen / 1000:g} kimg")
        # Looking at the model must not change how it trains; its time is not training time.
        with preserved_rng(), self.timer.aside_as(EVAL_PHASE):
            if estimate or test is not None:
                row.update(_test_estimates(self.model, test or self.test_subset, self.batches.device))
            if evaluate:
                row.update(self._evaluate())
        state.seconds = self.timer.optimising()
        line = {"step": state.steps, "kimg": state.images_seen / 1000, "seconds": state.seconds, **row}
        self.hooks.write_logs(line)
        with self.timer.aside_as(TRACKING_PHASE):
            self.trackers.log_row(line)
        state.log_rows = (state.log_rows or 0) + 1
        state.last_logs = {**state.last_logs, **row}

    def _snapshot(self) -> None:
        """Samples of the fixed latents now, for the progress strip (and the trackers)."""
        with preserved_rng(), self.timer.aside_as(PICTURES_PHASE):
            images = self.hooks.snapshot(self.model)
        self.state.snapshots.append((self.state.images_seen / 1000, images))
        with self.timer.aside_as(TRACKING_PHASE):
            self.trackers.log_snapshot(self.state.images_seen, images)

    def _evaluate(self) -> dict[str, float]:
        """The cheap metric now; the best weights so far are kept."""
        started = time.perf_counter()
        scores = self.hooks.evaluate(self.model)
        seconds = time.perf_counter() - started
        self.sampling_cost.observe(seconds, self.state.images_seen / 1000, self.timer.optimising())
        value = next(iter(scores.values()))
        best = self.state.best
        if math.isfinite(value) and (best is None or value < best["value"]):
            self.state.best = {"value": value, "kimg": self.state.images_seen / 1000}
            self.hooks.save_best(self.model)
        return scores

    def _checkpoint(self) -> None:
        """Save a resume checkpoint. Pending logs go into it, not into a row: the log of a run that
        stopped and resumed has exactly the rows of one that never stopped."""
        self.state.seconds = self.timer.optimising()
        with self.timer.aside_as(CHECKPOINT_PHASE):
            self.hooks.save_checkpoint(checkpoint_payload(self.model, self.batches, self.state))
        with self.timer.aside_as(TRACKING_PHASE):
            self.trackers.checkpointed(self.state.images_seen)


def _mean_logs(pending: list[dict[str, torch.Tensor]]) -> dict[str, float]:
    """Average each scalar over the pending steps with one transfer to the host."""
    keys = sorted({k for logs in pending for k in logs})
    if not keys:
        return {}
    for key, value in ((k, v) for logs in pending for k, v in logs.items()):
        if not isinstance(value, torch.Tensor):  # A Python number would fail below without saying why.
            raise TypeError(log_value_problem("train_step", key, value))
    means = torch.stack(
        [torch.stack([logs[k].detach().float() for logs in pending if k in logs]).mean() for k in keys]
    )
    return dict(zip(keys, (float(v) for v in means.cpu()), strict=True))


def _test_subset(test: Split, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    n = min(len(test), TEST_ESTIMATE_IMAGES)
    return test.images[:n].to(device), test.labels[:n].to(device)


def _all_test(test: Split) -> tuple[torch.Tensor, torch.Tensor]:
    return test.images, test.labels


@torch.no_grad()
def _test_estimates(
    model: Model, data: tuple[torch.Tensor, torch.Tensor], device: torch.device
) -> dict[str, float]:
    """The model's own estimates on held-out images, averaged over batches, prefixed ``test/``."""
    images, labels = data
    batch_size = max(model.hparams.batch_size, 256)
    totals: dict[str, torch.Tensor] = {}
    model.eval()
    try:
        for start in range(0, images.shape[0], batch_size):
            chunk = images[start : start + batch_size].to(device)
            logs = model.estimate(to_unit_range(chunk), labels[start : start + batch_size].to(device))
            for key, value in logs.items():
                if not isinstance(value, torch.Tensor):
                    raise TypeError(log_value_problem("estimate", key, value))
                totals[key] = totals.get(key, 0) + value.detach().float() * chunk.shape[0]
    finally:
        model.train()
    n = images.shape[0]
    return {f"test/{k}": float(v) / n for k, v in totals.items()}
