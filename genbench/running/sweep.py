"""The sweep: check every name and dataset, prepare each dataset once (reference classifier, real
statistics, real-data floor), resolve each (model, seed) run's spec (genbench.core.run_spec) and hand
the runs to an executor (genbench.running.executor: here one after another, or on a Ray cluster), which
does, resumes or reuses each run and contains its failure; the leaderboard is rebuilt as each record
comes in.

Several ``genbench run`` processes may share one output folder: each run is locked while a process
works on it, and a process that finds a run locked does the others first, then waits for it.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import torch

from genbench.api import DataShape, Hyperparameters
from genbench.core.metrics import DEFAULT_METRICS
from genbench.core.progress import ProgressSink, SilentProgress
from genbench.core.record import RecordError, RunRecord
from genbench.core.registry import PluginEntry, Registry
from genbench.core.run_spec import EvaluationSpec, Provenance, RunSpec, Schedule, TrainingSpec
from genbench.errors import OutOfSpaceError
from genbench.evaluation.classifier import peek_classifier
from genbench.options.config import RunOptions
from genbench.options.identity import ResolvedRun, genbench_version, run_identity
from genbench.options.overrides import resolve_overrides
from genbench.options.sampling import sampling_given
from genbench.results.leaderboard import rebuild_leaderboard
from genbench.results.records import RunFolder, run_id, setup_hash
from genbench.running.executor import Executor, LocalExecutor
from genbench.running.fast_path import resolve_precision
from genbench.running.interrupts import StopRequests
from genbench.running.jobs import LoadedData, RunContext, RunJob
from genbench.running.plan import PlannedRun, planned
from genbench.running.preflight import check_metrics_apply, check_models_fit
from genbench.running.preparation import DatasetPreparation
from genbench.running.trackers import build_trackers

Job = tuple[PluginEntry, Hyperparameters, int]  # (model, hyperparameters, seed)


class Benchmark:
    """Runs every (dataset, model, seed) of ``options``; names and values are checked, and every
    dataset loaded and checked, before any training starts, so a typo never costs a half-done sweep."""

    def __init__(
        self,
        options: RunOptions,
        registry: Registry,
        progress: ProgressSink | None = None,
        announce: Callable[[str], None] = lambda message: None,
    ) -> None:
        self.options = options
        self.registry = registry
        self.announce = announce
        self.models = [(entry, self._hparams(entry)) for entry in map(registry.model, options.models)]
        # Each model's sampling options unlike its defaults (--sample-set), checked before any work.
        self.sampling = {
            entry.name: sampling_given(entry.cls, options.sampling.get(entry.name, {}))
            for entry, _ in self.models
        }
        self.datasets = [registry.dataset(name) for name in options.datasets]
        check_models_fit(self.models, self.datasets)  # Before anything is loaded or written.
        chosen = options.metrics != DEFAULT_METRICS  # The default list holds metrics of both kinds.
        check_metrics_apply([entry for entry, _ in self.models], options.metrics, chosen, announce)
        # What every run is asked to do, resolved once; each run's spec adds what it resolved (_spec).
        self.budget = options.budget
        self.schedule = Schedule(options.log_every, options.checkpoint_every, options.eval_every)
        self.evaluation = EvaluationSpec(
            metrics=options.metrics,
            n_samples=options.n_samples,
            n_eval=options.n_eval,
            reference_split=options.reference_split,
            n_reference=options.n_reference,
            divergence=options.divergence,
            intervals=options.intervals,
        )
        trackers = build_trackers(registry, options.track)  # Checked now: a typo never costs a sweep.
        self.stop = StopRequests()
        self.executor = make_executor(options)
        self.context = RunContext(
            self.executor.local_device(),
            progress or SilentProgress(),
            announce,
            self.stop,
            options.restart,
            trackers,
        )
        self.run_device = self.context.device  # The executor's, once connected (a cluster's GPUs).
        # Each dataset's splits, reference classifier, evaluation setup and floor (genbench score's too).
        self.preparation = DatasetPreparation(options, self.context.device, self.context.progress, announce)
        self.floors = self.preparation.floors  # The real-data floor record of each dataset.
        self.data_sha256 = self.preparation.data_sha256  # Dataset name -> its splits' hash (run identity).

    def _hparams(self, entry: PluginEntry) -> Hyperparameters:
        """The model's hyperparameters with the options' overrides, checked: by the model's own rules
        first (their messages), then NaN, never a setting."""
        return resolve_overrides(entry.cls, self.options.overrides.get(entry.name, {}))

    @property
    def device(self) -> torch.device:
        """Where models train: this process's device, or the Ray cluster's."""
        return self.run_device

    def run(self) -> list[RunRecord]:
        """Run everything; returns the records (``metrics.json`` contents) of this benchmark's runs.

        SIGINT/SIGTERM save a resume checkpoint and raise :class:`Interrupted`; a full disk raises
        :class:`OutOfSpaceError` (every file is written atomically, so what was saved is intact)."""
        try:
            return self._run_all()
        except OSError as error:
            kept = "finished runs and saved checkpoints are kept; unfinished runs resume"
            if (out_of_space := OutOfSpaceError.wrapping(error, kept)) is not None:
                raise out_of_space from error
            raise

    def _run_all(self) -> list[RunRecord]:
        with self.stop.installed(), self.executor.connected():
            self.run_device = self.executor.run_device()
            splits, loading = {}, {}
            for entry in self.datasets:
                started = time.perf_counter()
                splits[entry.name] = self.preparation.load(entry)
                loading[entry.name] = time.perf_counter() - started
            self.preparation.find_inception_weights()
            # Every dataset is prepared here, once, before any run starts; runs only read it.
            jobs: list[RunJob] = []
            for entry in self.datasets:
                data = self.preparation.prepare(entry, *splits.pop(entry.name))
                data.prepare_seconds["data"] = loading[entry.name]
                jobs += [self._job(data, *job) for job in self._jobs()]
            warning = self.preparation.inception_warning
            if warning and any(map(self._will_run, jobs)):
                self.announce(warning)  # Said only when a run computes metrics.
            return self.executor.run(self.context, jobs, self._finished)

    def plan(self) -> list[PlannedRun]:
        """What :meth:`run` would do with each run (train, resume or reuse it) and its folder, doing
        none of it: the datasets are loaded and checked (their hashes name the folders), nothing is
        trained, evaluated, downloaded or written. A run whose reference classifier is not cached yet
        has no folder name yet."""
        runs = []
        self.preparation.find_inception_weights(download=False)
        for entry in self.datasets:
            self.preparation.load(entry)
            cached = self.options.cache_dir / "classifiers"
            classifier = peek_classifier(entry.name, entry.cls.shape, self.data_sha256[entry.name], cached)
            for model_entry, hparams, seed in self._jobs():
                if classifier is None:
                    runs.append(PlannedRun("train", f"{entry.name}/{model_entry.name} seed {seed}", None))
                    continue
                resolved = self._resolved(entry, classifier.weights_sha256, model_entry, hparams, seed)
                folder = RunFolder(self.options.out, self._spec(resolved).run_id)
                runs.append(planned(folder, self.options.restart))
        return runs

    def _jobs(self) -> list[Job]:
        return [(model, hparams, seed) for model, hparams in self.models for seed in self.options.seeds]

    def _job(self, data: LoadedData, model_entry: PluginEntry, hparams: Hyperparameters, seed: int) -> RunJob:
        resolved = self._resolved(data.entry, data.classifier.weights_sha256, model_entry, hparams, seed)
        spec = self._spec(resolved)
        return RunJob(spec, data, model_entry, hparams, RunFolder(self.options.out, spec.run_id))

    def _will_run(self, job: RunJob) -> bool:
        """Whether the job trains and scores (it is not a finished or diverged run to reuse)."""
        if self.options.restart:
            return True
        try:
            record = job.folder.read_record()
        except RecordError:
            return True
        return record is None or record.status not in ("finished", "diverged")

    def _finished(self, record: RunRecord) -> None:
        """A run's record came in (from whichever executor): the leaderboard shows it."""
        rebuild_leaderboard(self.options.out)

    def _resolved(
        self,
        dataset: PluginEntry,
        classifier_sha256: str,
        model_entry: PluginEntry,
        hparams: Hyperparameters,
        seed: int,
    ) -> ResolvedRun:
        """What the run resolved beside the options: its data, model, seed, device, precision, weights."""
        return ResolvedRun(
            dataset=dataset.name,
            shape=dataclasses.asdict(dataset.cls.shape),
            data_sha256=self.data_sha256[dataset.name],
            model=model_entry.name,
            model_distribution=model_entry.distribution,
            model_version=model_entry.version,
            hparams=dataclasses.asdict(hparams),
            seed=seed,
            device=self.device.type,
            precision=resolve_precision(self.options.precision, self.device, model_entry.cls),
            classifier_sha256=classifier_sha256,
            inception_sha256=self.preparation.inception.sha256,
            sampling=self.sampling[model_entry.name],
        )

    def _spec(self, run: ResolvedRun) -> RunSpec:
        """The run's spec: the options resolved once for the sweep, with what the run resolved. Its id is
        the hash of the run identity (genbench.options.identity): everything that affects its result."""
        identity = run_identity(self.options, run)
        return RunSpec(
            run_id=run_id(run.dataset, run.model, run.seed, identity),
            setup=setup_hash(identity),
            dataset=run.dataset,
            model=run.model,
            seed=run.seed,
            hparams=run.hparams,
            device=run.device,
            training=TrainingSpec(self.budget, self.schedule, run.precision),
            # The sweep's one evaluation, but for a model whose sampling options were set.
            evaluation=(
                dataclasses.replace(self.evaluation, sampling=run.sampling)
                if run.sampling
                else self.evaluation
            ),
            provenance=Provenance(
                genbench_version=genbench_version(),
                data_sha256=run.data_sha256,
                data_shape=DataShape(**run.shape),
                model_distribution=run.model_distribution,
                model_version=run.model_version,
                classifier_sha256=run.classifier_sha256,
                inception_sha256=run.inception_sha256,
            ),
        )


def make_executor(options: RunOptions) -> Executor:
    """The executor ``options.executor`` names; ``ray`` without Ray installed is a one-line error. Chosen
    here, not in genbench.running.executor, which the Ray task imports to do its run."""
    if options.executor == "ray":
        from genbench.running.ray_executor import RayExecutor  # Only here: Ray is an optional extra.

        return RayExecutor(options)
    return LocalExecutor(options)
