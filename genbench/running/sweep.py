"""The sweep: for each dataset x model x seed, do the run (genbench.running.single_run), resume it,
or reuse its finished record; contain each run's failure so the sweep goes on; rebuild the leaderboard
after every run.

Several ``genbench run`` processes may share one output folder: each run is locked while a process
works on it, and a process that finds a run locked does the others first, then waits for it.
"""

from __future__ import annotations

import dataclasses
import gc
import time
import traceback
from collections.abc import Callable
from typing import Any

import torch
from filelock import FileLock, Timeout

from genbench.api import Hyperparameters, Split, check_split
from genbench.errors import Diverged, Interrupted, OutOfSpaceError, UserError
from genbench.evaluation.classifier import cached_classifier
from genbench.evaluation.evaluate import EvaluationSetup, reference_images
from genbench.evaluation.floor import floor_record, write_floor
from genbench.evaluation.inception import InceptionWeights, resolve_inception_weights
from genbench.files import atomic_write_text
from genbench.layout import ERROR_LOG_FILE
from genbench.metrics import uses_extractor
from genbench.options.config import RunOptions
from genbench.options.identity import ResolvedRun, data_sha256, run_identity
from genbench.options.overrides import resolve_hparams
from genbench.plugins import PluginEntry, Registry
from genbench.progress import ProgressSink, SilentProgress
from genbench.record import RecordError, RunRecord
from genbench.results.leaderboard import rebuild_leaderboard
from genbench.results.records import RunFolder, run_id
from genbench.running.device import resolve_device
from genbench.running.fast_path import resolve_precision
from genbench.running.interrupts import StopRequests
from genbench.running.single_run import LoadedData, RunContext, SingleRun

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
        self.models = [
            (entry, resolve_hparams(entry.cls, options.overrides.get(entry.name, {})))
            for entry in map(registry.model, options.models)
        ]
        self.datasets = [registry.dataset(name) for name in options.datasets]
        self.stop = StopRequests()
        self.context = RunContext(
            options, resolve_device(options.device), progress or SilentProgress(), announce, self.stop
        )
        self.inception = InceptionWeights(None, reason="not asked for (--metrics)")
        self._inception_warning = ""  # Said once, before the first run that is not reused.
        self.floors: list[RunRecord] = []  # The real-data floor record of each dataset.
        self.data_sha256: dict[str, str] = {}  # Dataset name -> the hash of its splits (run identity).

    @property
    def device(self) -> torch.device:
        """Where models train and metrics are computed."""
        return self.context.device

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
        with self.stop.installed():
            splits, loading = {}, {}
            for entry in self.datasets:
                started = time.perf_counter()
                splits[entry.name] = self._load_splits(entry)
                loading[entry.name] = time.perf_counter() - started
            for name, (train, test) in splits.items():
                self._check_reference_size(name, train, test)
                self.data_sha256[name] = data_sha256(train, test)  # Once per load: in every run's id.
            self._find_inception_weights()
            records = []
            for entry in self.datasets:
                data = self._prepare(entry, *splits.pop(entry.name))
                data.prepare_seconds["data"] = loading[entry.name]
                seeds = self.options.seeds
                jobs = [(model, hparams, seed) for model, hparams in self.models for seed in seeds]
                records += self._run_jobs(data, jobs)
        return records

    def _run_jobs(self, data: LoadedData, jobs: list[Job]) -> list[RunRecord]:
        # Runs another process holds are done last, after waiting for it (it has usually finished them).
        records, waiting = [], []
        for job in jobs:
            record = self._run_or_reuse(data, *job, wait=False)
            if record is None:
                waiting.append(job)
            else:
                records.append(record)
        for job in waiting:
            records.append(self._run_or_reuse(data, *job, wait=True))
        return records

    def _load_splits(self, entry: PluginEntry) -> tuple[Split, Split]:
        """Load and check both splits; a plugin's error becomes one line naming the plugin."""
        owner = f"dataset '{entry.name}' ({entry.distribution})"
        try:
            dataset = entry.cls(self.options.data_root.expanduser(), download=self.options.download)
            splits = (dataset.load("train"), dataset.load("test"))
        except UserError:
            raise
        except Exception as error:
            raise UserError(f"{owner} failed to load: {type(error).__name__}: {error}") from error
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
        with FileLock(self.options.cache_dir / f".{entry.name}.lock"):
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
            self.device,
            progress=self.context.progress,
            warn=self.announce,
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
            divergence=options.divergence,
            device=self.device,
            cache_root=options.cache_dir / "fidelity",
            progress=self.context.progress,
        )
        data = LoadedData(entry, shape, train, test, classifier, setup)
        data.prepare_seconds["classifier"] = time.perf_counter() - started
        started = time.perf_counter()
        self._floor(data)
        data.prepare_seconds["floor"] = time.perf_counter() - started
        return data

    def _find_inception_weights(self) -> None:
        # Decided once, before any run: missing weights cost one warning line, not one per run.
        if not uses_extractor(self.options.metrics, "inception"):
            return
        self.inception = resolve_inception_weights(self.options.fid_weights, self.options.download)
        if not self.inception.available:
            # Said before the first run that computes metrics: not when every run is reused.
            columns = "fid, kid, isc, precision, recall"
            self._inception_warning = f"warning: Inception columns ({columns}) empty: {self.inception.reason}"

    def _floor(self, data: LoadedData) -> None:
        """Score the held-out real split like a model (cached), and show it in the leaderboard."""
        held_out_split = "train" if self.options.reference_split == "test" else "test"
        held_out = data.train if held_out_split == "train" else data.test
        self.announce(
            f"{data.entry.name}: real-data floor ({held_out_split} vs {self.options.reference_split})…"
        )
        options = self.options
        record = floor_record(
            data.setup, held_out, held_out_split, options.n_samples, options.cache_dir, self.announce
        )
        write_floor(self.options.out, record)
        self.floors.append(record)
        rebuild_leaderboard(self.options.out)

    def _run_or_reuse(
        self, data: LoadedData, model_entry: PluginEntry, hparams: Hyperparameters, seed: int, wait: bool
    ) -> RunRecord | None:
        """The run's record: reused, or from doing (or resuming) the run; None if another process
        holds the run and ``wait`` is False."""
        config = self._config(data, model_entry, hparams, seed)
        folder = RunFolder(self.options.out, run_id(data.entry.name, model_entry.name, seed, config))
        try:
            with folder.lock(timeout=-1 if wait else 0):
                folder.remove_leftovers()
                record = self._reuse(folder)
                if record is None:
                    if self._inception_warning:
                        self.announce(self._inception_warning)
                        self._inception_warning = ""
                    job = SingleRun(self.context, data, model_entry, hparams, seed, config, folder)
                    record = self._contained(job)
        except Timeout:
            self.announce(f"{folder.run_id}: another process is running it; coming back to it later")
            return None
        rebuild_leaderboard(self.options.out)
        return record

    def _reuse(self, folder: RunFolder) -> RunRecord | None:
        """A finished or diverged run's record (a diverged run would diverge again); None to run it.

        A damaged record, or one whose checkpoints do not match it, makes the run unfinished: said in
        one line, then resumed or redone."""
        if self.options.restart:
            return None
        try:
            record = folder.read_record()
        except RecordError as error:
            self.announce(f"{folder.run_id}: {error}; the run is not finished, doing it again")
            return None
        status = record.status if record is not None else None
        if status not in ("finished", "diverged"):
            if status == "failed":
                self.announce(f"{folder.run_id}: failed last time; trying again")
            return None
        self.announce(f"{folder.run_id}: already {status}, reusing its record (--restart to redo)")
        return record

    def _contained(self, job: SingleRun) -> RunRecord:
        """Do the run; a failure or divergence is recorded and reported, and the sweep goes on."""
        run_name = job.folder.run_id
        try:
            record = job.execute()
        except Interrupted as error:
            error.saved = True  # Stopped inside a run: its resume checkpoints are on disk.
            raise
        except KeyboardInterrupt:
            raise
        except Diverged as error:
            record = job.failure_record("diverged", f"diverged: {error}")
        except torch.OutOfMemoryError:
            batch = job.hparams.batch_size
            record = job.failure_record(
                "failed",
                f"out of memory on {self.device} at batch size {batch}; try "
                f"--set {job.model_entry.name}.batch_size={max(batch // 2, 1)} or a smaller model",
            )
        except Exception as error:  # A plugin's bug must not end the sweep: record it and go on.
            if OutOfSpaceError.wrapping(error) is not None:
                raise  # Not the run's fault, and every later run would hit it too.
            name = f"{job.model_entry.name} ({job.model_entry.distribution})"
            atomic_write_text(job.folder.file(ERROR_LOG_FILE), traceback.format_exc())
            message = " ".join(f"{type(error).__name__}: {error}".split())
            record = job.failure_record("failed", f"{name} raised {message} (traceback in {ERROR_LOG_FILE})")
        else:
            scores = ", ".join(f"{k}={v:.4g}" for k, v in record.metrics.items() if v is not None)
            self.announce(f"{run_name}: done in {record.wall_seconds or 0:.0f} s, {scores}")
            return record
        finally:
            gc.collect()  # Free the model's memory (on a GPU, before the next run needs it).
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        job.folder.write_metrics(record)
        self.announce(f"{run_name}: {record.status.upper()}: {record.error}")
        return record

    def _config(
        self, data: LoadedData, model_entry: PluginEntry, hparams: Hyperparameters, seed: int
    ) -> dict[str, Any]:
        """Everything that affects a run's result (genbench.options.identity); its hash names the run
        folder."""
        resolved = ResolvedRun(
            dataset=data.entry.name,
            shape=dataclasses.asdict(data.shape),
            data_sha256=self.data_sha256[data.entry.name],
            model=model_entry.name,
            model_distribution=model_entry.distribution,
            model_version=model_entry.version,
            hparams=dataclasses.asdict(hparams),
            seed=seed,
            device=self.device.type,
            precision=resolve_precision(self.options.precision, self.device, model_entry.cls),
            classifier_sha256=data.classifier.weights_sha256,
            inception_sha256=self.inception.sha256,
        )
        return run_identity(self.options, resolved)
