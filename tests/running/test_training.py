"""The training loop: the budget is spent exactly as set, caps are recorded, logs are read in batches."""

from __future__ import annotations

import math
import time
from pathlib import Path

import fakes
import pytest
import torch

from genbench.core.batches import DeviceBatches
from genbench.core.images import to_uint8, to_unit_range
from genbench.core.progress import SilentProgress
from genbench.core.run_spec import Budget, Schedule, TrainingSpec
from genbench.errors import UserError
from genbench.running.training import LogOnlyHooks, train


def _train(budget: Budget, log_every: int = 5) -> tuple[object, list[dict[str, float]]]:
    data = fakes.Bars(Path("unused"))
    torch.manual_seed(0)
    model = fakes.PixelGaussian.build(fakes.Bars.shape)
    rows: list[dict[str, float]] = []
    batches = DeviceBatches(data.load("train"), torch.device("cpu"), seed=0)
    hooks = LogOnlyHooks(rows.append)
    spec = TrainingSpec(budget, Schedule(log_every))
    result = train(model, batches, data.load("test"), spec, hooks, SilentProgress())
    return result, rows


def test_training_stops_when_the_kimg_budget_is_spent() -> None:
    result, rows = _train(Budget(kimg=1.0))
    # Batches of 32: the first step that reaches 1,000 images ends training (StyleGAN's rule).
    assert result.stopped_by == "kimg"
    assert result.images_seen == 32 * math.ceil(1000 / 32) == 1024
    assert result.steps == 32
    assert rows[-1]["kimg"] == pytest.approx(1.024)
    assert rows[-1]["step"] == 32


def test_caps_stop_training_first_and_say_so() -> None:
    result, _ = _train(Budget(kimg=100.0, steps=7))
    assert (result.stopped_by, result.steps, result.images_seen) == ("steps", 7, 7 * 32)
    result, _ = _train(Budget(kimg=10_000.0, seconds=0.3))
    assert result.stopped_by == "seconds"
    assert 0.3 <= result.seconds < 5 and result.images_seen < 10_000_000


def test_logs_are_means_over_intervals_with_held_out_estimates() -> None:
    result, rows = _train(Budget(kimg=1.0), log_every=5)
    steps = [row["step"] for row in rows]
    assert steps == sorted(steps) and steps[-1] == 32
    train_rows = [row for row in rows if "loss" in row]
    assert len(train_rows) >= 32 // 5 and all(math.isfinite(row["loss"]) for row in train_rows)
    # The model learns: the logged negative log-likelihood falls.
    assert train_rows[-1]["loss"] < train_rows[0]["loss"] - 1
    held_out = [row for row in rows if "test/loss" in row]
    assert len(held_out) >= 10  # Ten points over the budget, plus the end.
    assert result.last_logs["test/loss"] == held_out[-1]["test/loss"]


def test_budget_values_are_validated() -> None:
    for bad in (dict(kimg=0), dict(kimg=-1), dict(kimg=1, steps=0), dict(kimg=1, seconds=-2)):
        with pytest.raises(UserError):
            Budget(**bad)


def test_batches_cover_the_split_and_are_seeded() -> None:
    split = fakes.Bars(Path("unused")).load("train")
    first = DeviceBatches(split, torch.device("cpu"), seed=3)
    second = DeviceBatches(split, torch.device("cpu"), seed=3)
    epoch = [first.next(30) for _ in range(10)]
    assert all(torch.equal(images, second.next(30)[0]) for images, _ in epoch)
    # One shuffled epoch shows every image exactly once.
    shown = torch.cat([to_uint8(images) for images, _ in epoch])
    assert sorted(map(bytes, shown.flatten(1).numpy())) == sorted(map(bytes, split.images.flatten(1).numpy()))


def test_quantisation_round_trips_uint8() -> None:
    values = torch.arange(256, dtype=torch.uint8).reshape(1, 1, 16, 16)
    assert torch.equal(to_uint8(to_unit_range(values)), values)


@pytest.mark.parametrize("budget", [Budget(kimg=1.0), Budget(kimg=100.0, steps=32)])
def test_the_last_step_gets_one_row_with_its_scalars_and_the_closing_estimates(budget: Budget) -> None:
    # Issue 19: train.jsonl had two rows at the final step, one with the training scalars and one
    # without (here the last step, 32, is also a multiple of log_every).
    _, rows = _train(budget, log_every=4)
    steps = [row["step"] for row in rows]
    assert len(steps) == len(set(steps)), steps
    assert steps[-1] == 32 and {"loss", "test/loss"} <= set(rows[-1])


class SlowEvaluation(LogOnlyHooks):
    """Hooks whose cheap metric takes a while (a diffusion model sampling for it, say)."""

    def evaluate(self, model: object) -> dict[str, float]:
        time.sleep(0.3)
        return {"eval/fd_clf_1k": 1.0}


def test_training_seconds_are_optimisation_alone() -> None:
    # Issue 19: with --eval-every, a model spent 340 of 368 s sampling for the cheap metric, and
    # train_seconds read 349 s (9 s without it). Evaluation has its own phase.
    data = fakes.Bars(Path("unused"))
    model = fakes.PixelGaussian.build(fakes.Bars.shape)
    rows: list[dict[str, float]] = []
    batches = DeviceBatches(data.load("train"), torch.device("cpu"), seed=0)
    schedule = Schedule(log_every=5, eval_every_kimg=0.25)
    started = time.monotonic()
    hooks = SlowEvaluation(rows.append)
    spec = TrainingSpec(Budget(kimg=1.0), schedule)
    result = train(model, batches, data.load("test"), spec, hooks, SilentProgress())
    wall = time.monotonic() - started
    evaluating = result.side_seconds["eval_during_training"]
    assert evaluating >= 4 * 0.3  # Every quarter of the budget (the last one in the closing row).
    assert result.seconds < wall - evaluating + 0.05
    assert rows[-1]["seconds"] == pytest.approx(result.seconds, abs=0.05)  # train.jsonl's too.


class CostlySampler(fakes.PixelGaussian):
    expensive_sampling = True  # As a diffusion model declares it.


@pytest.mark.parametrize("model_cls", [CostlySampler, fakes.PixelGaussian])
def test_a_model_with_costly_sampling_hears_once_what_the_cheap_metric_costs(model_cls: type) -> None:
    # Issue 21: 1,000 samples x 100 steps cost 340 s against 9 s of training, without a word.
    data = fakes.Bars(Path("unused"))
    said: list[str] = []
    hooks = SlowEvaluation(lambda row: None, said.append)
    spec = TrainingSpec(Budget(kimg=1.0), Schedule(log_every=5, eval_every_kimg=0.25))
    batches = DeviceBatches(data.load("train"), torch.device("cpu"), seed=0)
    train(model_cls.build(fakes.Bars.shape), batches, data.load("test"), spec, hooks, SilentProgress())
    costly = [line for line in said if line.startswith("sampling is costly")]
    if model_cls is fakes.PixelGaussian:
        assert costly == []  # A one-pass generator: nothing to say.
        return
    (line,) = costly  # Once, after the first evaluation (at 0.25 kimg): at 0.5, 0.75 and the end to come.
    assert "(--eval-every 0.25 kimg) took 0.3 s; about 3 more take about 1 s" in line, line
    assert "booked as evaluation, not training" in line and "--n-eval" in line
