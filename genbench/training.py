"""The training loop: one model, one budget. Every model of a run goes through this same loop."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from genbench.api import Model, Split
from genbench.batches import DeviceBatches, to_unit_range
from genbench.config import Budget
from genbench.progress import ProgressSink

# Held-out estimates are computed at this many evenly spaced points of the budget (and at the end),
# on at most this many test images, so their cost does not grow with the budget.
TEST_ESTIMATE_POINTS = 10
TEST_ESTIMATE_IMAGES = 1024


@dataclass(frozen=True)
class TrainResult:
    """How training ended."""

    steps: int
    images_seen: int
    seconds: float
    stopped_by: str  # "kimg", "steps" or "seconds"
    last_logs: dict[str, float]

    def summary(self) -> dict[str, object]:
        """The fields a run record carries."""
        return {
            "stopped_by": self.stopped_by,
            "kimg": self.images_seen / 1000,
            "steps": self.steps,
            "train_seconds": round(self.seconds, 3),
            "final_logs": self.last_logs,
        }


def train(
    model: Model,
    batches: DeviceBatches,
    test: Split,
    budget: Budget,
    write_logs: Callable[[dict[str, float]], None],
    progress: ProgressSink,
    log_every: int = 50,
) -> TrainResult:
    """Train ``model`` on ``batches`` until ``budget`` is spent.

    Scalar logs stay on the device and are read every ``log_every`` steps (one host sync per read),
    averaged over those steps and passed to ``write_logs`` with step, kimg and seconds.
    """
    batch_size = model.hparams.batch_size
    test_subset = _test_subset(test, batches.device)
    interval = budget.images / TEST_ESTIMATE_POINTS
    next_estimate = interval
    pending: list[dict[str, torch.Tensor]] = []
    steps = images_seen = 0
    last: dict[str, float] = {}
    started = time.monotonic()
    model.train()
    while (stopped_by := budget.stop_reason(images_seen, steps, time.monotonic() - started)) is None:
        # Take one optimisation step on a batch drawn on the device.
        images, labels = batches.next(batch_size)
        pending.append(model.train_step(images, labels))
        steps += 1
        images_seen += images.shape[0]

        # Read the logs now and then; estimate on held-out images at fixed points of the budget.
        if steps % log_every == 0 or images_seen >= next_estimate:
            row = _mean_logs(pending)
            pending.clear()
            if images_seen >= next_estimate:
                row.update(_test_estimates(model, test_subset))
                next_estimate = (images_seen // interval + 1) * interval  # Skip points a batch jumped.
            last = _emit(row, steps, images_seen, started, write_logs)
        progress.update(images_seen / 1000, steps, last if not pending else None)

    # Close with the logs of the last steps and estimates on the whole test split.
    row = _mean_logs(pending) if pending else {}
    row.update(_test_estimates(model, _all_test(test, batches.device)))
    last = {**last, **_emit(row, steps, images_seen, started, write_logs)}
    progress.update(images_seen / 1000, steps, last)
    return TrainResult(steps, images_seen, time.monotonic() - started, stopped_by, last)


def _emit(
    row: dict[str, float],
    steps: int,
    images_seen: int,
    started: float,
    write_logs: Callable[[dict[str, float]], None],
) -> dict[str, float]:
    record = {"step": steps, "kimg": images_seen / 1000, "seconds": time.monotonic() - started, **row}
    write_logs(record)
    return row


def _mean_logs(pending: list[dict[str, torch.Tensor]]) -> dict[str, float]:
    """Average each scalar over the pending steps with one transfer to the host."""
    keys = sorted({k for logs in pending for k in logs})
    if not keys:
        return {}
    means = torch.stack(
        [torch.stack([logs[k].detach().float() for logs in pending if k in logs]).mean() for k in keys]
    )
    return dict(zip(keys, (float(v) for v in means.cpu()), strict=True))


def _test_subset(test: Split, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    n = min(len(test), TEST_ESTIMATE_IMAGES)
    return test.images[:n].to(device), test.labels[:n].to(device)


def _all_test(test: Split, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    return test.images.to(device), test.labels.to(device)


@torch.no_grad()
def _test_estimates(model: Model, data: tuple[torch.Tensor, torch.Tensor]) -> dict[str, float]:
    """The model's own estimates on held-out images, averaged over batches, prefixed ``test/``."""
    images, labels = data
    batch_size = max(model.hparams.batch_size, 256)
    totals: dict[str, torch.Tensor] = {}
    model.eval()
    try:
        for start in range(0, images.shape[0], batch_size):
            chunk = images[start : start + batch_size]
            logs = model.estimate(to_unit_range(chunk), labels[start : start + batch_size])
            for key, value in logs.items():
                totals[key] = totals.get(key, 0) + value.detach().float() * chunk.shape[0]
    finally:
        model.train()
    n = images.shape[0]
    return {f"test/{k}": float(v) / n for k, v in totals.items()}
