"""A dataset made ready for scoring, the one way ``genbench run`` and ``genbench score`` do it: its
splits loaded and checked, its reference classifier (trained once, cached), its evaluation setup
(reference images, Inception weights, metrics, divergence and interval recipes) and its real-data
floor. What is compared with what, and how, is then the same whichever command scored the samples.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from genbench.api import Split, check_split
from genbench.core.locks import Lock
from genbench.core.metrics import metrics_of, uses_extractor
from genbench.core.progress import ProgressSink, SilentProgress
from genbench.core.record import RunRecord
from genbench.core.registry import PluginEntry
from genbench.errors import UserError, one_line
from genbench.evaluation.classifier import cached_classifier
from genbench.evaluation.floor import floor_record
from genbench.evaluation.inception import InceptionWeights, resolve_inception_weights
from genbench.evaluation.setup import EvaluationSetup, reference_images
from genbench.options.config import RunOptions
from genbench.options.identity import data_sha256
from genbench.results.leaderboard import rebuild_leaderboard
from genbench.running.jobs import LoadedData


@dataclass
class DatasetPreparation:
    """Prepares datasets under ``options`` (its data, evaluation and output fields) on ``device``."""

    options: RunOptions
    device: torch.device
    progress: ProgressSink = field(default_factory=SilentProgress)
    announce: Callable[[str], None] = lambda message: None
    inception: InceptionWeights = field(
        default_factory=lambda: InceptionWeights(None, reason="not asked for (--metrics)")
    )
    inception_warning: str = ""  # Said by the caller once, before the first run that computes metrics.
    floors: list[RunRecord] = field(default_factory=list)  # The real-data floor record of each dataset.
    data_sha256: dict[str, str] = field(default_factory=dict)  # Dataset name -> the hash of its splits.

    def load(self, entry: PluginEntry) -> tuple[Split, Split]:
        """Load and check both splits and the reference size, and hash them (the run identity's)."""
        train, test = self.load_splits(entry)
        self.check_reference_size(entry.name, train, test)
        self.data_sha256[entry.name] = data_sha256(train, test)  # Once per load: in every run's id.
        return train, test

    def load_splits(self, entry: PluginEntry) -> tuple[Split, Split]:
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

    def check_reference_size(self, dataset: str, train: Split, test: Split) -> None:
        """--n-reference is at most the reference split's size (known once the data is loaded)."""
        split = self.options.reference_split
        size = len(train if split == "train" else test)
        if self.options.n_reference is not None and self.options.n_reference > size:
            raise UserError(
                f"--n-reference must be at most the {split} split of '{dataset}' ({size:,} images), "
                f"got {self.options.n_reference:,}"
            )

    def find_inception_weights(self, download: bool | None = None) -> None:
        """Decided once, before any run: missing weights cost one warning line, not one per run."""
        if not uses_extractor(self.options.metrics, "inception"):
            return
        download = self.options.download if download is None else download
        self.inception = resolve_inception_weights(self.options.fid_weights, download)
        if not self.inception.available:
            # One line, said once, before the first run that computes metrics (not when every run is
            # reused); the whole reason is in each run's metrics.json (the metrics' protocol).
            asked = ", ".join(m.name for m in metrics_of("inception") if m.name in self.options.metrics)
            self.inception_warning = f"warning: {asked} stay empty: no Inception weights (see --fid-weights)"

    def load_and_prepare(self, entry: PluginEntry) -> LoadedData:
        """One dataset loaded, checked and prepared, for a command that scores samples of it alone
        (genbench score, genbench eval): a missing Inception weights' warning said at once."""
        train, test = self.load(entry)
        self.find_inception_weights()
        data = self.prepare(entry, train, test)
        if self.inception_warning:
            self.announce(self.inception_warning)
        return data

    def prepare(self, entry: PluginEntry, train: Split, test: Split) -> LoadedData:
        """The reference classifier (trained once, cached), the evaluation setup and the real floor.

        Under a lock on the cache: processes that share it compute each cached file once, one at a
        time, instead of writing it together."""
        cache_dir = self.options.cache_dir
        assert cache_dir is not None  # RunOptions resolves it.
        cache_dir.mkdir(parents=True, exist_ok=True)
        with Lock(cache_dir / f".{entry.name}.lock"):
            return self._prepare_unlocked(entry, train, test)

    def _prepare_unlocked(self, entry: PluginEntry, train: Split, test: Split) -> LoadedData:
        options, shape = self.options, entry.cls.shape
        assert options.cache_dir is not None
        self.announce(f"{entry.name}: {len(train)} train / {len(test)} test images; reference classifier…")
        started = time.perf_counter()
        classifier = cached_classifier(
            entry.name,
            shape,
            train,
            test,
            options.cache_dir / "classifiers",
            self.device,
            progress=self.progress,
            warn=self.announce,
            data_sha256=self.data_sha256[entry.name],  # Hashed once, for the run identity.
        )
        origin = "genbench's pinned one" if classifier.pinned else "trained on the CPU, cached"
        self.announce(
            f"{entry.name}: reference classifier ({origin}) test accuracy {classifier.test_accuracy:.3f}"
        )
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
            intervals=options.intervals,
            device=self.device,
            cache_root=options.cache_dir / "fidelity",
            progress=self.progress,
            train_images=train.images,
            test_images=test.images,
        )
        data = LoadedData(entry, shape, train, test, classifier, setup)
        data.prepare_seconds["classifier"] = time.perf_counter() - started
        started = time.perf_counter()
        self._floor(data)
        data.prepare_seconds["floor"] = time.perf_counter() - started
        return data

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
