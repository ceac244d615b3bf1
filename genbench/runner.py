"""The benchmark runner: for each dataset x model x seed, seed everything, build, train under the
shared budget, sample, evaluate and record; the leaderboard is rebuilt after every run."""

from __future__ import annotations

import dataclasses
import io
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torchvision

from genbench.api import DataShape, Hyperparameters, Model, Split
from genbench.batches import DeviceBatches
from genbench.classifier import ClassifierInfo, cached_classifier
from genbench.config import RunOptions
from genbench.device import device_name, resolve_device
from genbench.evaluation import EvaluationSetup, balanced_labels, evaluate, generate, reference_images
from genbench.floor import floor_record, write_floor
from genbench.inception import InceptionWeights, resolve_inception_weights
from genbench.leaderboard import rebuild_leaderboard
from genbench.metrics import INCEPTION_METRICS
from genbench.overrides import resolve_hparams
from genbench.plugins import PluginEntry, Registry
from genbench.progress import ProgressSink, SilentProgress
from genbench.records import (
    CHECKPOINT_FILE,
    METRICS_FILE,
    SAMPLES_FILE,
    TRAIN_LOG_FILE,
    RunFolder,
    atomic_torch_save,
    atomic_write,
    read_json,
    run_id,
    versions,
)
from genbench.training import TrainResult, train

GRID_IMAGES = 64


@dataclass(frozen=True)
class LoadedData:
    """A dataset's splits, reference classifier and evaluation setup, shared by every run on it."""

    entry: PluginEntry
    shape: DataShape
    train: Split
    test: Split
    classifier: ClassifierInfo
    setup: EvaluationSetup


class Benchmark:
    """Runs every (dataset, model, seed) of ``options``; names and values are checked before any
    work starts, so a typo never costs a half-finished sweep."""

    def __init__(
        self,
        options: RunOptions,
        registry: Registry,
        progress: ProgressSink | None = None,
        announce: Callable[[str], None] = lambda message: None,
    ) -> None:
        self.options = options
        self.registry = registry
        self.progress = progress or SilentProgress()
        self.announce = announce
        self.models = [
            (entry, resolve_hparams(entry.cls, options.overrides.get(entry.name, {})))
            for entry in map(registry.model, options.models)
        ]
        self.datasets = [registry.dataset(name) for name in options.datasets]
        self.device = resolve_device(options.device)
        self.inception = InceptionWeights(None, reason="not asked for (--metrics)")
        self.floors: list[dict[str, Any]] = []  # The real-data floor record of each dataset.

    def run(self) -> list[dict[str, Any]]:
        """Run everything; returns the records (``metrics.json`` contents) of this benchmark's runs."""
        records = []
        self._find_inception_weights()
        for dataset_entry in self.datasets:
            data = self._load(dataset_entry)
            self._floor(data)
            for model_entry, hparams in self.models:
                for seed in self.options.seeds:
                    records.append(self._run_or_reuse(data, model_entry, hparams, seed))
                    rebuild_leaderboard(self.options.out)
        return records

    def _load(self, entry: PluginEntry) -> LoadedData:
        # Load and check both splits, then get the reference classifier (trained once, cached).
        dataset = entry.cls(self.options.data_root, download=self.options.download)
        shape = entry.cls.shape
        splits = {}
        for split in ("train", "test"):
            splits[split] = dataset.load(split)
            splits[split].validate(shape, f"dataset '{entry.name}' ({entry.distribution}), {split} split")
        self.announce(
            f"{entry.name}: {len(splits['train'])} train / {len(splits['test'])} test images; "
            "reference classifier (cached after the first run)…"
        )
        classifier = cached_classifier(
            entry.name,
            shape,
            splits["train"],
            splits["test"],
            self.options.cache_dir / "classifiers",
            self.device,
            progress=self.progress,
        )
        self.announce(f"{entry.name}: reference classifier test accuracy {classifier.test_accuracy:.3f}")
        options = self.options
        setup = EvaluationSetup(
            dataset=entry.name,
            reference_split=options.reference_split,
            reference=reference_images(splits[options.reference_split], options.n_reference),
            classifier=classifier,
            inception=self.inception,
            metrics=options.metrics,
            divergence=options.divergence,
            device=self.device,
            cache_root=options.cache_dir / "fidelity",
            progress=self.progress,
        )
        return LoadedData(entry, shape, splits["train"], splits["test"], classifier, setup)

    def _find_inception_weights(self) -> None:
        # Decided once, before any run: missing weights cost one warning line, not one per run.
        if not set(self.options.metrics) & set(INCEPTION_METRICS):
            return
        self.inception = resolve_inception_weights(self.options.fid_weights, self.options.download)
        if not self.inception.available:
            reason = self.inception.reason
            self.announce(f"warning: Inception columns (fid, kid, isc, precision, recall) empty: {reason}")

    def _floor(self, data: LoadedData) -> None:
        """Score the held-out real split like a model (cached), and show it in the leaderboard."""
        held_out_split = "train" if self.options.reference_split == "test" else "test"
        held_out = data.train if held_out_split == "train" else data.test
        self.announce(
            f"{data.entry.name}: real-data floor ({held_out_split} vs {self.options.reference_split})…"
        )
        record = floor_record(
            data.setup, held_out, held_out_split, self.options.n_samples, self.options.cache_dir
        )
        write_floor(self.options.out, record)
        self.floors.append(record)
        rebuild_leaderboard(self.options.out)

    def _run_or_reuse(
        self, data: LoadedData, model_entry: PluginEntry, hparams: Hyperparameters, seed: int
    ) -> dict[str, Any]:
        config = self._config(data, model_entry, hparams, seed)
        folder = RunFolder(self.options.out, run_id(data.entry.name, model_entry.name, seed, config))
        if folder.finished and not self.options.restart:
            self.announce(f"{folder.run_id}: already finished, reusing its record (--restart to redo)")
            return read_json(folder.file(METRICS_FILE))
        return self._run(data, model_entry, hparams, seed, config, folder)

    def _config(
        self, data: LoadedData, model_entry: PluginEntry, hparams: Hyperparameters, seed: int
    ) -> dict[str, Any]:
        """Everything that affects a run's result; its hash names the run folder."""
        return {
            "dataset": data.entry.name,
            "shape": dataclasses.asdict(data.shape),
            "model": model_entry.name,
            "hparams": dataclasses.asdict(hparams),
            "seed": seed,
            "budget": dataclasses.asdict(self.options.budget),
            "n_samples": self.options.n_samples,
            "device": self.device.type,
            "evaluation": {
                "metrics": list(self.options.metrics),
                "reference_split": self.options.reference_split,
                "n_reference": self.options.n_reference,
                "divergence": dataclasses.asdict(self.options.divergence),
            },
        }

    def _run(
        self,
        data: LoadedData,
        model_entry: PluginEntry,
        hparams: Hyperparameters,
        seed: int,
        config: dict[str, Any],
        folder: RunFolder,
    ) -> dict[str, Any]:
        started = time.monotonic()
        options, device = self.options, self.device

        # Record the resolved config and versions before any work.
        folder.file(TRAIN_LOG_FILE).unlink(missing_ok=True)
        plugins = {e.distribution: e.version for e in (data.entry, model_entry)}
        folder.write_config(
            {
                **config,
                "run_id": folder.run_id,
                "device_name": device_name(device),
                "log_every": options.log_every,
                "versions": versions(plugins),
            }
        )

        # Seed everything, then build the model on the device.
        seed_everything(seed)
        with torch.device(device):
            model: Model = model_entry.cls(data.shape, hparams)
        model.to(device)

        # Train until the budget is spent; keep the final state.
        result = self._train(model, data, folder, seed)

        # Sample with a seeded generator, save a grid, evaluate.
        eval_started = time.monotonic()
        samples = generate(model, options.n_samples, seed=seed, device=device)
        save_grid(samples[:GRID_IMAGES], folder, nrow=data.shape.num_classes if model.conditional else 8)
        # A conditional model drew sample i for class balanced_labels[i]: its accuracy is scored on them.
        labels = (
            balanced_labels(len(samples), data.shape.num_classes, samples.device)
            if model.conditional
            else None
        )
        evaluation = evaluate(samples, data.setup, labels, label=f"{folder.run_id}/")

        # Record: metrics.json marks the run finished.
        record = {
            "run_id": folder.run_id,
            "dataset": data.entry.name,
            "model": model_entry.name,
            "seed": seed,
            "status": "finished",
            "budget_kimg": options.budget.kimg,
            "budget": dataclasses.asdict(options.budget),
            **result.summary(),
            "eval_seconds": round(time.monotonic() - eval_started, 3),
            "wall_seconds": round(time.monotonic() - started, 3),
            "device": device_name(device),
            "metrics": evaluation.metrics,
            "protocol": evaluation.protocol,
            "protocol_summary": data.setup.summary(),
        }
        folder.write_metrics(record)
        scores = ", ".join(f"{k}={v:.4g}" for k, v in evaluation.metrics.items() if v is not None)
        self.announce(f"{folder.run_id}: done in {record['wall_seconds']:.0f} s, {scores}")
        return record

    def _train(self, model: Model, data: LoadedData, folder: RunFolder, seed: int) -> TrainResult:
        options = self.options
        batches = DeviceBatches(data.train, self.device, seed=seed)
        self.progress.start(f"{data.entry.name}/{model.name}/seed{seed}", options.budget.kimg)
        try:
            result = train(
                model, batches, data.test, options.budget, folder.append_log, self.progress, options.log_every
            )
        finally:
            self.progress.stop()
        checkpoint = {
            "model": model.checkpoint_state(),
            "steps": result.steps,
            "images_seen": result.images_seen,
        }
        atomic_torch_save(folder.file(CHECKPOINT_FILE), checkpoint)
        return result


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and every CUDA device)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def save_grid(samples: torch.Tensor, folder: RunFolder, nrow: int) -> None:
    """Save uint8 samples as one PNG grid (torchvision's ``make_grid``), atomically."""
    grid = torchvision.utils.make_grid(samples.float() / 255, nrow=nrow, padding=2)
    buffer = io.BytesIO()
    torchvision.utils.save_image(grid, buffer, format="png")
    atomic_write(folder.file(SAMPLES_FILE), lambda f: f.write(buffer.getvalue()))
