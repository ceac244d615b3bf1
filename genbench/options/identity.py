"""The run identity: everything that affects a run's result. Its hash names the run folder, so a run is
reused only when nothing that could change its numbers changed; the identity without the seed names
the experiment (``setup``). It is derived from the options' declaration (every option declared with
``affects_results=True``) plus what the run resolved: its data's hash, the model plugin's version, the
weights of the reference classifier and of Inception, and the numeric precision."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from genbench.api import Split
from genbench.core.hashing import tensor_sha256
from genbench.options.config import RunOptions
from genbench.options.declaration import declared


@dataclass(frozen=True)
class ResolvedRun:
    """What one run resolved beside the options' values: the run's own dataset, model and seed, and the
    exact data, code and weights its numbers come from."""

    dataset: str
    shape: dict[str, Any]
    data_sha256: str  # data_sha256() of the dataset's splits.
    model: str
    model_distribution: str  # The model plugin's distribution and version.
    model_version: str
    hparams: dict[str, Any]  # Resolved: the defaults with --set / [overrides] applied.
    seed: int
    device: str  # The device type (cpu, cuda): which GPU does not change a result.
    precision: str  # What --precision resolved to for this model and device (fp32, bf16).
    classifier_sha256: str  # The reference classifier's weights.
    inception_sha256: str | None  # The Inception weights; None when not used or not available.
    # The model's sampling options (--sample-set) unlike its defaults (genbench.options.sampling).
    sampling: dict[str, Any] = field(default_factory=dict)


def run_identity(options: RunOptions, run: ResolvedRun) -> dict[str, Any]:
    """The run's identity (saved as its ``config.json``, with a few fields that do not count)."""
    identity = {
        "precision": run.precision,
        # genbench's own code trains, samples and scores every run: another release, another result.
        "genbench_version": genbench_version(),
        "dataset": run.dataset,
        "shape": run.shape,
        "data_sha256": run.data_sha256,
        "model": run.model,
        "model_plugin": {"distribution": run.model_distribution, "version": run.model_version},
        "hparams": run.hparams,
        "seed": run.seed,
        "device": run.device,
        "classifier_weights_sha256": run.classifier_sha256,
        "inception_weights_sha256": run.inception_sha256,
        **result_options(options),
    }
    if run.sampling:  # Only when set: a run with the defaults keeps the id it had before they existed.
        identity["evaluation"]["sampling"] = run.sampling
    return identity


def genbench_version() -> str:
    """The installed genbench's version ("unknown" when run from a source tree that is not installed)."""
    try:
        return metadata.version("genbench")
    except metadata.PackageNotFoundError:
        return "unknown"


def result_options(options: RunOptions) -> dict[str, Any]:
    """The values of the options that affect results, under their group (``budget``, ``evaluation``)
    or at the top. Options that resolve per run (models, seeds, ``--set``, ``--fid-weights``, …) are
    recorded as what they resolved to instead (:class:`ResolvedRun`)."""
    values: dict[str, Any] = {}
    for spec in declared(RunOptions):
        if spec.option.affects_results and spec.option.resolved_as is None:
            group = values.setdefault(spec.option.group, {}) if spec.option.group else values
            group[spec.name] = getattr(options, spec.name)
    # The estimators' whole recipe, not only the declared --divergence-steps.
    values.setdefault("evaluation", {})["divergence"] = dataclasses.asdict(options.divergence)
    # The intervals' whole recipe (resamples, seed, confidence), not only the declared --bootstrap.
    values["evaluation"]["intervals"] = dataclasses.asdict(options.intervals)
    return values


def data_sha256(*splits: Split) -> str:
    """SHA-256 of the splits' images and labels (and their shapes): other data files give another hash,
    wherever they were found."""
    tensors = [tensor for split in splits for tensor in (split.images, split.labels)]
    return tensor_sha256(*tensors, layout=True)
