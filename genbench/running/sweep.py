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

from genbench.api import DataShape, Hyperparameters, Split, check_split
from genbench.core.locks import Lock
from genbench.core.metrics import DEFAULT_METRICS, metrics_of, uses_extractor
from genbench.core.progress import ProgressSink, SilentProgress
from genbench.core.record import RecordError, RunRecord
from genbench.core.registry import PluginEntry, Registry
from genbench.core.run_spec import EvaluationSpec, Provenance, RunSpec, Schedule, TrainingSpec
from genbench.errors import OutOfSpaceError, UserError, one_line
from genbench.evaluation.classifier import cached_classifier, peek_classifier
from genbench.evaluation.floor import floor_record
from genbench.evaluation.inception import InceptionWeights, resolve_inception_weights
from genbench.evaluation.setup import EvaluationSetup, reference_images
from genbench.options.config import RunOptions
from genbench.options.identity import ResolvedRun, data_sha256, genbench_version, run_identity
from genbench.options.overrides import resolve_overrides
from genbench.results.leaderboard import rebuild_leaderboard
from genbench.results.records import RunFolder, run_id, setup_hash
from genbench.running.executor import Executor, LocalExecutor
from genbench.running.fast_path import resolve_precision
from genbench.running.interrupts import StopRequests
from genbench.running.jobs import LoadedData, RunContext, RunJob
from genbench.running.plan import PlannedRun, planned
from genbench.running.preflight import check_metrics_apply, check_models_fit
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
        self.inception = InceptionWeights(None, reason="not asked for (--metrics)")
        self._inception_warning = ""  # Said once, before the first run that is not reused.
        self.floors: list[RunRecord] = []  # The real-data floor record of each dataset.
        self.data_sha256: dict[str, str] = {}  # Dataset name -> the hash of its splits (run identity).

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
                splits[entry.name] = self._load_splits(entry)
                loading[entry.name] = time.perf_counter() - started
            for name, (train, test) in splits.items():
                self._check_reference_size(name, train, test)
                self.data_sha256[name] = data_sha256(train, test)  # Once per load: in every run's id.
            self._find_inception_weights()
            # Every dataset is prepared here, once, before any run starts; runs only read it.
            jobs: list[RunJob] = []
            for entry in self.datasets:
                data = self._prepare(entry, *splits.pop(entry.name))
                data.prepare_seconds["data"] = loading[entry.name]
                jobs += [self._job(data, *job) for job in self._jobs()]
            if self._inception_warning and any(map(self._will_run, jobs)):
                self.announce(self._inception_warning)  # Said only when a run computes metrics.
            return self.executor.run(self.context, jobs, self._finished)

    def plan(self) -> list[PlannedRun]:
        """What :meth:`run` would do with each run (train, resume or reuse it) and its folder, doing
        none of it: the datasets are loaded and checked (their hashes name the folders), nothing is
        trained, evaluated, downloaded or written. A run whose reference classifier is not cached yet
        has no folder name yet."""
        runs = []
        self._find_inception_weights(download=False)
        for entry in self.datasets:
            train, test = self._load_splits(entry)
            self._check_reference_size(entry.name, train, test)
            self.data_sha256[entry.name] = data_sha256(train, test)
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

    def _load_splits(self, entry: PluginEntry) -> tuple[Split, Split]:
        """Load and check both splits; a plugin's error becomes one line naming the plugin."""
        owner = f"dataset '{entry.name}' ({entry.distribution})"
        try:
            dataset = entry.cls(self.options.data_root.expanduser(), download=self.options.download)
            splits = (dataset.load("train"), dataset.load("test"))
        except UserError:
            raise
        except Exception as error:
            raise UserError(f"{owner} failed to load: {one_line(error)}") from error
        for name, split in zip(("train", "test"), splits, strict=True):
            check_split(split, entry.cls.shape, f"{owner}, {name} split")  # A Split, as declared.
        return splits

    def _check_reference_size(self, dataset: str, train: Split, test: Split) -> None:
        """--n-reference is at most the reference split's size (known once the data is loaded)."""
        split = self.options.reference_split
        size = len(train if split == "train" else test)
        if self.options.n_reference is not None and self.options.n_reference > size:
            raise UserError(
                f"--n-reference must be at most the {split} split of '{dataset}' ({size:,} images), "
                f"got {self.options.n_reference:,}"
            )

    def _prepare(self, entry: PluginEntry, train: Split, test: Split) -> LoadedData:
        """The reference classifier (trained once, cached), the evaluation setup and the real floor.

        Under a lock on the cache: processes that share it compute each cached file once, one at a
        time, instead of writing it together."""
        self.options.cache_dir.mkdir(parents=True, exist_ok=True)
        with Lock(self.options.cache_dir / f".{entry.name}.lock"):
            return self._prepare_unlocked(entry, train, test)

    def _prepare_unlocked(self, entry: PluginEntry, train: Split, test: Split) -> LoadedData:
        options, shape = self.options, entry.cls.shape
        self.announce(
            f"{entry.name}: {len(train)} train / {len(test)} test images; "
            "reference classifier (cached after the first run)…"
        )
        started = time.perf_counter()
        classifier = cached_classifier(
            entry.name,
            shape,
            train,
            test,
            options.cache_dir / "classifiers",
            self.context.device,
            progress=self.context.progress,
            warn=self.announce,
            data_sha256=self.data_sha256[entry.name],  # Hashed once, for the run identity.
        )
        self.announce(f"{entry.name}: reference classifier test accuracy {classifier.test_accuracy:.3f}")
        setup = EvaluationSetup(
            dataset=entry.name,
            reference_split=options.reference_split,
            reference=reference_images(
                train if options.reference_split == "train" else test, options.n_reference
            ),
            classifier=classifier,
            inception=self.inception,
            metrics=options.metrics,
            divergence=self.evaluation.divergence,
            intervals=self.evaluation.intervals,
            device=self.context.device,
            cache_root=options.cache_dir / "fidelity",
            progress=self.context.progress,
            train_images=train.images,
            test_images=test.images,
        )
        data = LoadedData(entry, shape, train, test, classifier, setup)
        data.prepare_seconds["classifier"] = time.perf_counter() - started
        started = time.perf_counter()
        self._floor(data)
        data.prepare_seconds["floor"] = time.perf_counter() - started
        return data

    def _find_inception_weights(self, download: bool | None = None) -> None:
        # Decided once, before any run: missing weights cost one warning line, not one per run.
        if not uses_extractor(self.options.metrics, "inception"):
            return
        download = self.options.download if download is None else download
        self.inception = resolve_inception_weights(self.options.fid_weights, download)
        if not self.inception.available:
            # One line, said once, before the first run that computes metrics (not when every run is
            # reused); the whole reason is in each run's metrics.json (the metrics' protocol).
            asked = ", ".join(m.name for m in metrics_of("inception") if m.name in self.options.metrics)
            self._inception_warning = f"warning: {asked} stay empty: no Inception weights (see --fid-weights)"

    def _floor(self, data: LoadedData) -> None:
        """Score the held-out real split like a model (cached), and show it in the leaderboard."""
        held_out_split = "train" if self.options.reference_split == "test" else "test"
        held_out = data.train if held_out_split == "train" else data.test
        self.announce(
            f"{data.entry.name}: real-data floor ({held_out_split} vs {self.options.reference_split})…"
        )
        n_samples, out = self.options.n_samples, self.options.out
        record = floor_record(data.setup, held_out, held_out_split, n_samples, out, self.announce)
        self.floors.append(record)
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
            inception_sha256=self.inception.sha256,
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
            evaluation=self.evaluation,
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
