"""One run: a model on a dataset with one seed, from (or back to) an empty folder to a finished record.

A run resumes from its last good checkpoint when one exists, trains until the budget is spent, draws
its samples, saves its pictures and curves, evaluates and writes ``metrics.json`` last. The runner
(genbench.running.sweep) decides which runs to do and contains their failures.
"""

from __future__ import annotations

import dataclasses
import platform
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from genbench.api import DataShape, Hyperparameters, Model, Split
from genbench.contract import out_of_range_message
from genbench.core.batches import DeviceBatches
from genbench.core.files import atomic_torch_save, file_sha256
from genbench.core.images import balanced_labels
from genbench.core.layout import (
    BEST_CHECKPOINT_FILE,
    CHECKPOINT_FILE,
    CLASSES_FILE,
    CONFIG_FILE,
    ENCODED_INTERPOLATION_FILE,
    INTERPOLATION_FILE,
    PROGRESS_FILE,
    SAMPLES_FILE,
    TRAIN_LOG_FILE,
)
from genbench.core.metrics import format_count
from genbench.core.progress import ProgressSink
from genbench.core.record import RunRecord
from genbench.core.registry import PluginEntry
from genbench.evaluation.classifier import ClassifierInfo
from genbench.evaluation.evaluate import cheap_fd, evaluate, generate_counted
from genbench.evaluation.setup import EvaluationSetup
from genbench.figures import curves, pictures
from genbench.options.config import RunOptions
from genbench.results.records import RunFolder, setup_hash, truncate_log, versions
from genbench.running.device import device_name
from genbench.running.fast_path import StepOptions
from genbench.running.interrupts import StopRequests
from genbench.running.resume import load_resume, remove_resume, restore_rng_state, save_resume
from genbench.running.training import Schedule, TrainResult, TrainState, train

GRID_IMAGES = 64
PROGRESS_SEED = 1_000_003  # The fixed latents of the progress strip: the same for every model and run.


@dataclass(frozen=True)
class LoadedData:
    """A dataset's splits, reference classifier and evaluation setup, shared by every run on it."""

    entry: PluginEntry
    shape: DataShape
    train: Split
    test: Split
    classifier: ClassifierInfo
    setup: EvaluationSetup
    # Seconds this process spent preparing the dataset ("data", "classifier", "floor"; near 0 when
    # cached), shared by every run on it and repeated in each run's phase_seconds.
    prepare_seconds: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class RunContext:
    """What every run of a benchmark shares."""

    options: RunOptions
    device: torch.device
    progress: ProgressSink
    announce: Callable[[str], None]
    stop: StopRequests


class SingleRun:
    """One (dataset, model, seed) run; also the training loop's hooks."""

    def __init__(
        self,
        context: RunContext,
        data: LoadedData,
        model_entry: PluginEntry,
        hparams: Hyperparameters,
        seed: int,
        config: dict[str, Any],
        folder: RunFolder,
    ) -> None:
        self.context, self.data, self.model_entry, self.hparams = context, data, model_entry, hparams
        self.seed, self.config, self.folder = seed, config, folder
        self.eval_column = f"fd_clf_{format_count(context.options.n_eval)}"
        self.reached_kimg: float | None = None  # For a failure record: how far training got.

    def execute(self) -> RunRecord:
        """Train (or resume), sample, evaluate and record; returns the ``metrics.json`` record."""
        started = time.monotonic()
        options, device, folder = self.context.options, self.context.device, self.folder

        # Seed everything, then build the model on the device.
        model, batches = self._build()

        # Resume from the last good checkpoint, or record the resolved config before any work. A
        # checkpoint that verifies but does not fit the model leaves it half loaded: build it again.
        try:
            state = self._resume(model, batches)
        except _Unrestorable as error:
            self.context.announce(f"{folder.run_id}: {error}; starting over")
            model, batches = self._build()
            state = None
        state = state or self._start()

        # Train until the budget is spent; a signal checkpoints and stops.
        result = self._train(model, batches, state)
        atomic_torch_save(folder.file(CHECKPOINT_FILE), self._final_checkpoint(model, result))

        # Sample with a seeded generator; save the grid, the pictures and the curves.
        eval_started = time.monotonic()
        samples, out_of_range = generate_counted(model, options.n_samples, seed=self.seed, device=device)
        if out_of_range:  # Clamped by the quantisation: said once per run, and recorded.
            what = f"the samples of model '{self.model_entry.name}'"
            self.context.announce(f"warning: {folder.run_id}: {out_of_range_message(what, out_of_range)}")
        sampled = time.monotonic()
        nrow = self.data.shape.num_classes if model.conditional else 8
        pictures.save_image_grid(samples[:GRID_IMAGES], nrow, folder.file(SAMPLES_FILE))
        skipped = self._pictures(model, state)
        curves.write_run_curves(folder.path)
        pictured = time.monotonic()

        # Evaluate: a conditional model drew sample i for class balanced_labels[i].
        labels = balanced_labels(len(samples), self.data.shape.num_classes, samples.device)
        evaluation = evaluate(
            samples, self.data.setup, labels if model.conditional else None, label=f"{folder.run_id}/"
        )
        phases = {
            **{f"prepare/{name}": seconds for name, seconds in self.data.prepare_seconds.items()},
            "train": result.seconds,
            "sample": sampled - eval_started,
            "pictures": pictured - sampled,
            **{f"metric/{name}": seconds for name, seconds in evaluation.seconds.items()},
        }

        # Record: metrics.json marks the run finished, vouching for the checkpoints by size and hash;
        # the resume checkpoints are no longer needed.
        kept = [name for name in (CHECKPOINT_FILE, BEST_CHECKPOINT_FILE) if folder.file(name).exists()]
        record = dataclasses.replace(
            self.base_record("finished"),
            **result.summary(),
            resumed_at_kimg=state.resumes,
            during_training=self._during_training(state),
            pictures_skipped=skipped,
            samples_out_of_range=out_of_range,  # The fraction of sample values outside [-1, 1].
            progress_kimg=[kimg for kimg, _ in state.snapshots],  # The rows of progress.png.
            eval_seconds=round(time.monotonic() - eval_started, 3),
            phase_seconds={name: round(seconds, 3) for name, seconds in phases.items()},
            precision=self.config.get("precision", "fp32"),
            wall_seconds=round(time.monotonic() - started, 3),
            metrics=evaluation.metrics,
            protocol=evaluation.protocol,
            files={name: folder.digest(name) for name in kept},
            train_log=folder.digest(TRAIN_LOG_FILE),  # Damage to the log is then said, not silent.
            train_log_rows=folder.log_rows(),
        )
        folder.write_metrics(record)
        remove_resume(folder.path)
        return record

    def base_record(self, status: str) -> RunRecord:
        """The fields every record has, finished or not."""
        options = self.context.options
        return RunRecord(
            run_id=self.folder.run_id,
            dataset=self.data.entry.name,
            dataset_description=self.data.entry.description,  # E.g. a folder dataset's split rule.
            model=self.model_entry.name,
            seed=self.seed,
            setup=setup_hash(self.config),
            status=status,
            budget_kimg=options.budget.kimg,
            budget=dataclasses.asdict(options.budget),
            device=device_name(self.context.device),
            node=platform.node(),  # Which machine trained it (a sweep may span a Ray cluster).
            protocol_summary=self.data.setup.summary(),
        )

    def failure_record(self, status: str, error: str) -> RunRecord:
        """The record of a run that failed or diverged: no metrics, the reason, how far it got."""
        return dataclasses.replace(self.base_record(status), error=error, kimg=self.reached_kimg)

    # The training loop's hooks.

    def write_logs(self, row: dict[str, float]) -> None:
        """Append a row to ``train.jsonl``."""
        self.reached_kimg = row["kimg"]
        self.folder.append_log(row)

    def save_checkpoint(self, payload: dict[str, Any]) -> None:
        """Save the resume checkpoint the loop built (the model, every RNG, the data order, its state),
        with the SHA-256 of the log so far: a row changed before it is then said when the run resumes."""
        log = self.folder.file(TRAIN_LOG_FILE)
        payload["log_sha256"] = file_sha256(log) if log.is_file() else None
        save_resume(self.folder.path, payload)

    def snapshot(self, model: Model) -> torch.Tensor:
        """Samples of the progress strip's fixed latents."""
        return pictures.snapshot(model, PROGRESS_SEED, self.data.shape.num_classes)

    def evaluate(self, model: Model) -> dict[str, float]:
        """The cheap metric: reference-classifier FD on ``--n-eval`` samples, drawn with the run's seed like
        the final samples, so that at the end of training it reads what the final evaluation does for
        the same number of samples (``final_fd_clf_1k`` = ``fd_clf_1k``)."""
        setup, n = self.data.setup, self.context.options.n_eval
        return {f"eval/{self.eval_column}": cheap_fd(model, setup, n, self.seed)}

    def save_best(self, model: Model) -> None:
        """Keep the weights with the best cheap metric so far."""
        atomic_torch_save(self.folder.file(BEST_CHECKPOINT_FILE), {"model": model.checkpoint_state()})

    def stop_requested(self) -> bool:
        """Whether SIGINT/SIGTERM arrived."""
        return self.context.stop.requested()

    # Steps of execute().

    def _start(self) -> TrainState:
        self.folder.clear()
        self.folder.write_config(self._resolved_config())
        return TrainState()

    def _resolved_config(self) -> dict[str, Any]:
        plugins = {e.distribution: e.version for e in (self.data.entry, self.model_entry)}
        return {
            **self.config,
            "run_id": self.folder.run_id,
            "device_name": device_name(self.context.device),
            "log_every": self.context.options.log_every,
            "versions": versions(plugins),
        }

    def _check_config(self) -> None:
        """A resumed run's config.json, written again if it went missing or was damaged."""
        path = self.folder.file(CONFIG_FILE)
        _, problem = self.folder.read_config()
        if problem is not None:
            self.context.announce(f"{self.folder.run_id}: {path} {problem}; writing it again")
            self.folder.write_config(self._resolved_config())

    def _resume(self, model: Model, batches: DeviceBatches) -> TrainState | None:
        if self.context.options.restart:
            return None
        payload = load_resume(self.folder.path, self.context.announce)
        if payload is None:
            return None
        try:
            model.load_checkpoint_state(payload["model"])
            batches.load_state_dict(payload["batches"])
            restore_rng_state(payload["rng"])
            state = TrainState.from_dict(payload["state"])
        except Exception as error:  # Whatever a mismatched payload raises: keys, shapes, types.
            reason = " ".join(f"{type(error).__name__}: {error}".split())[:200]
            raise _Unrestorable(f"the resume checkpoint does not fit this run ({reason})") from error
        self._check_config()
        state.log_rows = self._check_log(state, payload.get("log_sha256"))
        if state.best is not None and not _loads(self.folder.file(BEST_CHECKPOINT_FILE)):
            self.context.announce(
                f"{self.folder.run_id}: {self.folder.file(BEST_CHECKPOINT_FILE)} is missing or damaged; "
                "the best weights so far are lost, the next best evaluation keeps new ones"
            )
            state.best = None
        state.resumes.append(state.images_seen / 1000)
        self.context.announce(f"{self.folder.run_id}: resuming at {state.images_seen / 1000:g} kimg")
        return state

    def _check_log(self, state: TrainState, sha256: str | None) -> int:
        """Cut the log back to the checkpoint (rows after it recur) and say what damage did to the rows
        before it: lost, or changed against the SHA-256 the checkpoint holds (None: an older one).
        Returns the rows kept."""
        log, run = self.folder.file(TRAIN_LOG_FILE), self.folder.run_id
        expected = state.log_rows
        kept, damaged = truncate_log(log, state.log_rows, state.steps)
        if damaged:
            self.context.announce(f"{run}: {log}: skipped {damaged} damaged line(s)")
        if expected is not None and kept < expected:  # Lost before the checkpoint: never written again.
            self.context.announce(
                f"{run}: {log} lost {expected - kept} of the {expected} rows before the checkpoint "
                "(damaged or missing): its curves miss them; the metrics do not depend on them"
            )
        elif log.is_file() and sha256 not in (None, file_sha256(log)):
            self.context.announce(
                f"{run}: {log}: its rows before the checkpoint differ from what the checkpoint vouches "
                "for (a value was changed or damaged): its curves show them as they now are; the "
                "metrics do not depend on them"
            )
        return kept

    def _build(self) -> tuple[Model, DeviceBatches]:
        """The model, seeded and on the device, and its data order."""
        device = self.context.device
        seed_everything(self.seed)
        with torch.device(device):
            model: Model = self.model_entry.cls(self.data.shape, self.hparams)
        model.to(device)
        return model, DeviceBatches(self.data.train, device, seed=self.seed)

    def _train(self, model: Model, batches: DeviceBatches, state: TrainState) -> TrainResult:
        options = self.context.options
        schedule = Schedule(options.log_every, options.checkpoint_every, options.eval_every)
        self.context.progress.start(f"{self.folder.run_id}", options.budget.kimg)
        try:
            with self.context.stop.deferred():
                return train(
                    model,
                    batches,
                    self.data.test,
                    options.budget,
                    self,
                    self.context.progress,
                    schedule,
                    state,
                    StepOptions(self.config.get("precision", "fp32"), announce=self.context.announce),
                )
        finally:
            self.context.progress.stop()

    def _final_checkpoint(self, model: Model, result: TrainResult) -> dict[str, Any]:
        return {"model": model.checkpoint_state(), "steps": result.steps, "images_seen": result.images_seen}

    def _pictures(self, model: Model, state: TrainState) -> dict[str, str]:
        """Save the progress strip, class rows and interpolations; returns why any was skipped."""
        path, classes, test = self.folder.path, self.data.shape.num_classes, self.data.test
        pictures.save_progress_strip(state.snapshots, path / PROGRESS_FILE)
        if model.conditional:
            pictures.save_class_grid(model, self.seed, classes, path / CLASSES_FILE)
        skipped = {
            INTERPOLATION_FILE: pictures.save_interpolations(model, self.seed, path / INTERPOLATION_FILE),
            ENCODED_INTERPOLATION_FILE: pictures.save_encoded_interpolation(
                model, test.images, test.labels, path / ENCODED_INTERPOLATION_FILE
            ),
        }
        return {name: reason for name, reason in skipped.items() if reason is not None}

    def _during_training(self, state: TrainState) -> dict[str, Any] | None:
        """The cheap metric's last and best values, and where the best was reached."""
        every = self.context.options.eval_every
        if every is None:
            return None
        final = state.last_logs.get(f"eval/{self.eval_column}")
        best = state.best or {}
        return {
            "metric": self.eval_column,
            "every_kimg": every,
            "final": final,
            "best": best.get("value"),
            "best_kimg": best.get("kimg"),
            "best_checkpoint": BEST_CHECKPOINT_FILE if best else None,
        }


class _Unrestorable(Exception):
    """A resume checkpoint that verifies but cannot be restored into this run's model."""


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and every CUDA device)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _loads(path: Path) -> bool:
    """Whether a checkpoint file loads (weights only)."""
    try:
        torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # Any damage: missing, truncated, not a checkpoint.
        return False
    return True
