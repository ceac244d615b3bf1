"""One run: a model on a dataset with one seed, from (or back to) an empty folder to a finished record.

A run resumes from its last good checkpoint when one exists, trains until the budget is spent, draws
its samples, saves its pictures and curves, evaluates and writes ``metrics.json`` last. The runner
(genbench.running.sweep) decides which runs to do and contains their failures.
"""

from __future__ import annotations

import dataclasses
import os
import platform
import random
import time
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from genbench.api import Model
from genbench.contract import out_of_range_message
from genbench.core.batches import DeviceBatches
from genbench.core.files import atomic_torch_save, atomic_write_json, file_sha256
from genbench.core.images import balanced_labels
from genbench.core.layout import (
    BEST_CHECKPOINT_FILE,
    CHECKPOINT_FILE,
    CLASSES_FILE,
    CONFIG_FILE,
    COPYING_DATA_FILE,
    COPYING_FILE,
    ENCODED_INTERPOLATION_FILE,
    INTERPOLATION_FILE,
    PROGRESS_FILE,
    SAMPLES_FILE,
    TRAIN_LOG_FILE,
)
from genbench.core.metrics import format_count
from genbench.core.progress import ProgressSink
from genbench.core.record import RunRecord
from genbench.core.run_spec import Environment, RunSpec, SpecError
from genbench.evaluation.evaluate import Evaluation, cheap_fd, evaluate, generate_counted
from genbench.evaluation.generalisation import copying_gallery
from genbench.figures import curves, pictures
from genbench.figures.copying_gallery import save_copying_gallery
from genbench.results.records import software_versions, truncate_log
from genbench.running.best_weights import best_problem, save_best, vouched_sha256
from genbench.running.device import device_name
from genbench.running.jobs import RunContext, RunJob
from genbench.running.phase_timer import PICTURES_PHASE
from genbench.running.resume import Unrestorable, load_resume, remove_resume, restore, save_resume
from genbench.running.stages import TRAINED, Stage, drive
from genbench.running.trackers import Trackers, tracked_run
from genbench.running.train_state import TrainResult, TrainState
from genbench.running.training import train_stepwise
from genbench.tracking import TrackedRun

GRID_IMAGES = 64
PROGRESS_SEED = 1_000_003  # The fixed latents of the progress strip: the same for every model and run.


@dataclass(frozen=True)
class _Scored:
    """What sampling and evaluating the trained model gave."""

    evaluation: Evaluation
    samples_out_of_range: float  # The fraction of sample values outside [-1, 1].
    pictures_skipped: dict[str, str]
    phase_seconds: dict[str, float]
    seconds: float
    sampling: dict[str, Any]  # The model's sampling options, all of them.
    nfe: int  # Its network evaluations per sample under them.


class SingleRun:
    """One (dataset, model, seed) run; also the training loop's hooks."""

    def __init__(self, job: RunJob, context: RunContext) -> None:
        self.context, self.spec, self.data, self.folder = context, job.spec, job.data, job.folder
        self.model_entry, self.hparams = job.model_entry, job.hparams
        self.eval_column = f"fd_clf_{format_count(job.spec.evaluation.n_eval)}"
        self.reached_kimg: float | None = None  # For a failure record: how far training got.
        # The bars' label: short, so that a terminal has room for the losses (messages give the id).
        self.bar_label = f"{job.data.entry.name}/{job.model_entry.name} seed {job.spec.seed}"
        self.trackers = Trackers(context.trackers, context.announce, self.folder.run_id)
        # Training's bar: the run's own, or its share of a pack's (genbench.running.packing).
        self.train_progress: ProgressSink = context.progress
        self.pack: dict[str, Any] | None = None  # The pack it trains in: its size and seeds.

    def execute(self) -> RunRecord:
        """Train (or resume), sample, evaluate and record; returns the ``metrics.json`` record."""
        return drive(self.stages())

    def stages(self) -> Generator[Stage, None, RunRecord]:
        """:meth:`execute`, pausing after each training step and once trained (genbench.running.stages)."""
        started = time.monotonic()

        # Seed everything and build the model; resume from the last good checkpoint, or record the spec
        # before any work.
        model, batches, state = self._build_and_resume()
        self.trackers.start(self._tracked_run(state))

        # Train until the budget is spent; a signal checkpoints and stops.
        result = yield from self._train(model, batches, state)
        atomic_torch_save(self.folder.file(CHECKPOINT_FILE), self._final_checkpoint(model, result))
        yield TRAINED

        # Sample, save the pictures and curves, and evaluate.
        scored = self._score(model, state, result)

        # Record: metrics.json marks the run finished, vouching for the checkpoints by size and hash;
        # the resume checkpoints are no longer needed; the trackers get the record.
        record = self._finished_record(result, state, scored, time.monotonic() - started)
        self.folder.write_metrics(record)
        remove_resume(self.folder.path)
        return self.trackers.end_with(record, self.folder.write_metrics)

    def base_record(self, status: str) -> RunRecord:
        """The fields every record has, finished or not."""
        spec = self.spec
        return RunRecord(
            run_id=spec.run_id,
            dataset=spec.dataset,
            dataset_description=self.data.entry.description,  # E.g. a folder dataset's split rule.
            model=spec.model,
            seed=spec.seed,
            setup=spec.setup,
            status=status,
            budget_kimg=spec.training.budget.kimg,
            budget=dataclasses.asdict(spec.training.budget),
            device=device_name(self.context.device),
            node=platform.node(),  # Which machine trained it (a sweep may span a Ray cluster).
            protocol_summary=self.data.setup.summary(),
            pack=self.pack,
        )

    def failure_record(self, status: str, error: str) -> RunRecord:
        """The record of a run that failed or diverged: no metrics, the reason, how far it got."""
        record = dataclasses.replace(self.base_record(status), error=error, kimg=self.reached_kimg)
        return dataclasses.replace(record, tracker_failures=dict(self.trackers.failures))

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
        payload["best_sha256"] = vouched_sha256(self.folder.file(BEST_CHECKPOINT_FILE))
        save_resume(self.folder.path, payload)

    def snapshot(self, model: Model) -> torch.Tensor:
        """Samples of the progress strip's fixed latents."""
        return pictures.snapshot(model, PROGRESS_SEED, self.data.shape.num_classes)

    def evaluate(self, model: Model) -> dict[str, float]:
        """The cheap metric: reference-classifier FD on ``--n-eval`` samples, drawn with the run's seed like
        the final samples, so that at the end of training it reads what the final evaluation does for
        the same number of samples (``final_fd_clf_1k`` = ``fd_clf_1k``)."""
        n = self.spec.evaluation.n_eval
        return {f"eval/{self.eval_column}": cheap_fd(model, self.data.setup, n, self.spec.seed)}

    def save_best(self, model: Model) -> None:
        """Keep the weights with the best cheap metric so far."""
        save_best(self.folder.file(BEST_CHECKPOINT_FILE), model.checkpoint_state())

    def stop_requested(self) -> bool:
        """Whether SIGINT/SIGTERM arrived."""
        return self.context.stop.requested()

    def announce(self, message: str) -> None:
        """Say it where the sweep says things."""
        self.context.announce(message)

    # Steps of execute().

    def _build_and_resume(self) -> tuple[Model, DeviceBatches, TrainState]:
        """The model and its data order, at the last good checkpoint or at the start. A checkpoint that
        verifies but does not fit the model leaves it half loaded: it is built again."""
        model, batches = self._build()
        try:
            state = self._resume(model, batches)
        except Unrestorable as error:
            self.announce(f"{self.folder.run_id}: {error}; starting over")
            model, batches = self._build()
            state = None
        return model, batches, state or self._start()

    def _start(self) -> TrainState:
        self.folder.clear()
        self.folder.write_spec(self._spec_with_environment())
        return TrainState()

    def _spec_with_environment(self) -> RunSpec:
        """The spec as ``config.json`` holds it: with the device and software this run trains on."""
        plugins = {e.distribution: e.version for e in (self.data.entry, self.model_entry)}
        environment = Environment(
            device_name(self.context.device), software_versions(), dict(sorted(plugins.items()))
        )
        return dataclasses.replace(self.spec, environment=environment)

    def _check_spec(self) -> None:
        """A resumed run's config.json, written again if it went missing, was damaged or is another run's."""
        path = self.folder.file(CONFIG_FILE)
        try:
            self.folder.read_spec()  # Its own (the run id), and its checksum matches its content.
            problem = None
        except SpecError as error:  # One line naming the file and what is wrong with it.
            problem = str(error) if os.path.lexists(path) else f"{path} missing"
        if problem is not None:
            self.announce(f"{self.folder.run_id}: {problem}; writing it again")
            self.folder.write_spec(self._spec_with_environment())

    def _resume(self, model: Model, batches: DeviceBatches) -> TrainState | None:
        if self.context.restart:
            return None
        payload = load_resume(self.folder.path, self.announce)
        if payload is None:
            return None
        state = restore(payload, model, batches)
        self._check_spec()
        state.log_rows = self._check_log(state, payload.get("log_sha256"))
        best = self.folder.file(BEST_CHECKPOINT_FILE)
        if state.best is not None and (problem := best_problem(best, payload.get("best_sha256"))):
            self.announce(
                f"{self.folder.run_id}: {best} {problem}; "
                "the best weights so far are lost, the next best evaluation keeps new ones"
            )
            state.best = None
        state.resumes.append(state.images_seen / 1000)
        self.announce(f"{self.folder.run_id}: resuming at {state.images_seen / 1000:g} kimg")
        return state

    def _check_log(self, state: TrainState, sha256: str | None) -> int:
        """Cut the log back to the checkpoint (rows after it recur) and say what damage did to the rows
        before it: lost, or changed against the SHA-256 the checkpoint holds (None: an older one).
        Returns the rows kept."""
        log, run = self.folder.file(TRAIN_LOG_FILE), self.folder.run_id
        expected = state.log_rows
        kept, damaged = truncate_log(log, state.log_rows, state.steps)
        if damaged:
            self.announce(f"{run}: {log}: skipped {damaged} damaged line(s)")
        if expected is not None and kept < expected:  # Lost before the checkpoint: never written again.
            self.announce(
                f"{run}: {log} lost {expected - kept} of the {expected} rows before the checkpoint "
                "(damaged or missing): its curves miss them; the metrics do not depend on them"
            )
        elif log.is_file() and sha256 not in (None, file_sha256(log)):
            self.announce(
                f"{run}: {log}: its rows before the checkpoint differ from what the checkpoint vouches "
                "for (a value was changed or damaged): its curves show them as they now are; the "
                "metrics do not depend on them"
            )
        return kept

    def _build(self) -> tuple[Model, DeviceBatches]:
        """The model, seeded and on the device, and its data order."""
        device = self.context.device
        seed_everything(self.spec.seed)
        with torch.device(device):
            model: Model = self.model_entry.cls(self.data.shape, self.hparams)
        model.to(device)
        # Resolved by the sweep already (checked there): the defaults with --sample-set applied.
        model.sampling = self.model_entry.cls.resolve_sampling(**self.spec.evaluation.sampling)
        return model, DeviceBatches(self.data.train, device, seed=self.spec.seed)

    def _train(
        self, model: Model, batches: DeviceBatches, state: TrainState
    ) -> Generator[Stage, None, TrainResult]:
        progress, training = self.train_progress, self.spec.training
        # A resumed run's bar starts where it was.
        progress.start(self.bar_label, training.budget.kimg, done=state.images_seen / 1000)
        try:
            with self.context.stop.deferred():
                return (
                    yield from train_stepwise(
                        model, batches, self.data.test, training, self, progress, state, self.trackers
                    )
                )
        finally:
            progress.stop()

    def _tracked_run(self, state: TrainState) -> TrackedRun:
        """The run as its trackers see it; it resumes when this process restored a checkpoint."""
        resumed_at = state.images_seen if state.resumes else None
        identity = (self.data.entry.name, self.model_entry.name, self.spec.seed)
        config = self._spec_with_environment().to_dict()  # As config.json holds it.
        return tracked_run(self.folder.run_id, self.folder.path, identity, self.hparams, config, resumed_at)

    def _final_checkpoint(self, model: Model, result: TrainResult) -> dict[str, Any]:
        return {"model": model.checkpoint_state(), "steps": result.steps, "images_seen": result.images_seen}

    def _score(self, model: Model, state: TrainState, result: TrainResult) -> _Scored:
        """Sample with a seeded generator; save the grid, the pictures and the curves; evaluate (a
        conditional model drew sample i for class balanced_labels[i])."""
        started, seed, device = time.monotonic(), self.spec.seed, self.context.device
        label = f"{self.bar_label}/sample"  # A diffusion model's 10k samples take minutes.
        samples, out_of_range = generate_counted(
            model, self.spec.evaluation.n_samples, seed, device, self.context.progress, label
        )
        if out_of_range:  # Clamped by the quantisation: said once per run, and recorded.
            what = f"the samples of model '{self.model_entry.name}'"
            self.announce(f"warning: {self.folder.run_id}: {out_of_range_message(what, out_of_range)}")
        sampled = time.monotonic()
        nrow = self.data.shape.num_classes if model.conditional else 8
        pictures.save_image_grid(samples[:GRID_IMAGES], nrow, self.folder.file(SAMPLES_FILE))
        skipped = self._pictures(model, state)
        self.trackers.log_final_pictures(result.images_seen, state.snapshots, samples[:GRID_IMAGES], nrow)
        curves.write_run_curves(self.folder.path)
        pictured = time.monotonic()
        labels = balanced_labels(len(samples), self.data.shape.num_classes, samples.device)
        evaluation = evaluate(
            samples, self.data.setup, labels if model.conditional else None, label=f"{self.bar_label}/"
        )
        evaluated = time.monotonic()
        skipped |= self._copying_gallery(samples, evaluation)  # Drawn from what evaluation found.
        phases = {
            "sample": sampled - started,
            "pictures": pictured - sampled + time.monotonic() - evaluated,
            **{f"metric/{name}": seconds for name, seconds in evaluation.seconds.items()},
        }
        seconds = time.monotonic() - started
        return _Scored(
            evaluation, out_of_range, skipped, phases, seconds, dataclasses.asdict(model.sampling), model.nfe
        )

    def _pictures(self, model: Model, state: TrainState) -> dict[str, str]:
        """Save the progress strip, class rows and interpolations; returns why any was skipped."""
        path, test, seed = self.folder.path, self.data.test, self.spec.seed
        pictures.save_progress_strip(state.snapshots, path / PROGRESS_FILE)
        if model.conditional:
            pictures.save_class_grid(model, seed, self.data.shape.num_classes, path / CLASSES_FILE)
        skipped = {
            INTERPOLATION_FILE: pictures.save_interpolations(model, seed, path / INTERPOLATION_FILE),
            ENCODED_INTERPOLATION_FILE: pictures.save_encoded_interpolation(
                model, test.images, test.labels, path / ENCODED_INTERPOLATION_FILE
            ),
        }
        return {name: reason for name, reason in skipped.items() if reason is not None}

    def _copying_gallery(self, samples: torch.Tensor, evaluation: Evaluation) -> dict[str, str]:
        """Draw the copying gallery and write its indices and distances; returns why it was not drawn."""
        found, train = copying_gallery(evaluation), self.data.setup.train_images
        if found is None or train is None:
            reason = "copying_clf was not evaluated (left out of --metrics, or no train and test splits)"
            return {COPYING_FILE: reason}
        save_copying_gallery(found, samples, train, self.folder.file(COPYING_FILE))
        atomic_write_json(self.folder.file(COPYING_DATA_FILE), found.to_dict())
        return {}

    def _finished_record(
        self, result: TrainResult, state: TrainState, scored: _Scored, wall_seconds: float
    ) -> RunRecord:
        """The record of a finished run, vouching for its checkpoints by size and hash."""
        kept = [name for name in (CHECKPOINT_FILE, BEST_CHECKPOINT_FILE) if self.folder.file(name).exists()]
        phases = {
            **{f"prepare/{name}": seconds for name, seconds in self.data.prepare_seconds.items()},
            "train": result.seconds,  # Optimisation alone.
            # The loop's evaluation, progress-strip samples and checkpoints.
            **{name: seconds for name, seconds in result.side_seconds.items() if name != PICTURES_PHASE},
            **scored.phase_seconds,
        }
        phases["pictures"] += result.side_seconds.get(PICTURES_PHASE, 0.0)
        return dataclasses.replace(
            self.base_record("finished"),
            **result.summary(),
            resumed_at_kimg=state.resumes,
            during_training=self._during_training(state),
            pictures_skipped=scored.pictures_skipped,
            samples_out_of_range=scored.samples_out_of_range,
            progress_kimg=[kimg for kimg, _ in state.snapshots],  # The rows of progress.png.
            eval_seconds=round(scored.seconds, 3),
            phase_seconds={name: round(seconds, 3) for name, seconds in phases.items()},
            precision=self.spec.training.precision,
            wall_seconds=round(wall_seconds, 3),
            metrics=scored.evaluation.metrics,
            protocol=scored.evaluation.protocol,
            sampling=scored.sampling,
            nfe=scored.nfe,
            files={name: self.folder.digest(name) for name in kept},
            train_log=self.folder.digest(TRAIN_LOG_FILE),  # Damage to the log is then said, not silent.
            train_log_rows=self.folder.log_rows(),
        )

    def _during_training(self, state: TrainState) -> dict[str, Any] | None:
        """The cheap metric's last and best values, and where the best was reached."""
        every = self.spec.training.schedule.eval_every_kimg
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


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and every CUDA device)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
