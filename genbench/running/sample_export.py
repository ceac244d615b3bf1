"""``genbench sample``: a finished run's samples exported as a file or a folder of images.

The model is built from the run's ``config.json`` (its :class:`RunSpec`) by the same model plugin,
given the final weights (``checkpoint.pt``, or ``best.pt``) the run's record vouches for, and sampled
exactly as the run's evaluation sampled it (:func:`genbench.evaluation.evaluate.generate_counted`:
the same seeded generator, chunks and quantisation, balanced labels for a conditional model). With
the run's seed, the default, the exported set is the one its evaluation scored: ``genbench score``
reads the run's numbers back from it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from genbench.api import Model
from genbench.core.files import shown
from genbench.core.images import balanced_labels
from genbench.core.layout import BEST_CHECKPOINT_FILE, CHECKPOINT_FILE, CONFIG_FILE, METRICS_FILE
from genbench.core.progress import ProgressSink
from genbench.core.record import MAX_SEED, RecordError, RunRecord
from genbench.core.registry import Registry
from genbench.core.run_spec import RunSpec, SpecError
from genbench.errors import UserError, one_line
from genbench.evaluation.evaluate import generate_counted
from genbench.evaluation.sample_sets import is_npz, write_sample_set
from genbench.options.config import MAX_N_SAMPLES
from genbench.results.records import digest_problem, read_record_file, read_spec_file
from genbench.running.single_run import seed_everything


@dataclass(frozen=True)
class Exported:
    """What :func:`export_samples` wrote: where, how many, with which seed and weights."""

    path: Path
    n: int
    seed: int
    weights: str  # The checkpoint file sampled (checkpoint.pt or best.pt).
    conditional: bool
    out_of_range: float  # The fraction of values the model gave outside [-1, 1] (clamped).


def export_samples(
    run_dir: Path,
    out: Path,
    registry: Registry,
    device: torch.device,
    *,
    n: int | None = None,
    seed: int | None = None,
    best: bool = False,
    progress: ProgressSink | None = None,
) -> Exported:
    """Draw ``n`` samples of the finished run in ``run_dir`` and write them to ``out`` (``.npz`` or a
    folder, genbench.evaluation.sample_sets). ``n`` None: as many as the run's evaluation drew;
    ``seed`` None: the run's own. Both left to their defaults give the samples its evaluation scored.
    A :class:`UserError` when the run, its weights or ``out`` will not do."""
    if n is not None and not 1 <= n <= MAX_N_SAMPLES:
        raise UserError(f"-n must be from 1 to {MAX_N_SAMPLES:,}, got {n:,}")
    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise UserError(f"--seed must be from 0 to {MAX_SEED:,}, got {seed:,}")
    _check_destination(out)
    spec, record = finished_run(run_dir)
    n = spec.evaluation.n_samples if n is None else n
    weights = BEST_CHECKPOINT_FILE if best else CHECKPOINT_FILE
    model = load_model(run_dir, spec, record, weights, registry, device)
    seed = spec.seed if seed is None else seed
    drawn = draw_samples(model, n, seed, device, progress, f"{run_dir.name}/sample")
    write_sample_set(out, drawn.images, drawn.labels)
    return Exported(out, n, seed, weights, model.conditional, drawn.out_of_range)


@dataclass(frozen=True)
class Drawn:
    """Samples drawn as a run's evaluation draws them: uint8 images on the CPU, the class of each (a
    conditional model's; None otherwise), and the fraction of values the model gave outside [-1, 1]."""

    images: torch.Tensor
    labels: torch.Tensor | None
    out_of_range: float


def draw_samples(
    model: Model,
    n: int,
    seed: int,
    device: torch.device,
    progress: ProgressSink | None = None,
    label: str = "",
) -> Drawn:
    """``n`` samples of ``model`` from a generator seeded with ``seed``, exactly as the run's evaluation
    drew them (genbench.running.single_run): with the run's seed, the very images it scored.
    ``progress`` shows the drawing under ``label``."""
    images, out_of_range = generate_counted(model, n, seed, device, progress, label)
    labels = balanced_labels(n, model.shape.num_classes, images.device)
    return Drawn(images, labels if model.conditional else None, out_of_range)


def _check_destination(out: Path) -> None:
    """``--out`` names an ``.npz`` file or a new (or empty) folder; checked before any sampling."""
    if out.suffix and not is_npz(out):
        raise UserError(f"--out {shown(out)}: name a FILE.npz or a folder (DIR/), not a {out.suffix} file")
    if is_npz(out) and out.is_dir():
        raise UserError(f"--out {shown(out)}: a folder; name a file (FILE.npz) or remove the folder")
    if not is_npz(out) and out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UserError(f"--out {shown(out)}: exists and is not an empty folder; name a new folder")


def finished_run(run_dir: Path) -> tuple[RunSpec, RunRecord]:
    """The spec and record of the finished run in ``run_dir``; a :class:`UserError` saying why it is
    not one (no such folder, no record, a failed run, a damaged file)."""
    where = shown(run_dir)
    if not run_dir.is_dir():
        what = "not a folder" if os.path.lexists(run_dir) else "no such folder"
        raise UserError(f"{where}: {what}; give a run folder (RESULTS/runs/<run id>)")
    if not (run_dir / METRICS_FILE).exists():
        hint = (
            "unfinished: run the same `genbench run` again to finish it"
            if (run_dir / CONFIG_FILE).exists()
            else ("not a run folder (no config.json nor metrics.json); give RESULTS/runs/<run id>")
        )
        raise UserError(f"{where}: {hint}")
    try:
        record = read_record_file(run_dir / METRICS_FILE, expected_run_id=run_dir.name)
        spec = read_spec_file(run_dir / CONFIG_FILE, expected_run_id=run_dir.name)
    except (RecordError, SpecError) as error:
        raise UserError(str(error)) from None
    if not record.finished:
        raise UserError(
            f"{where}: a {record.status} run, not a finished one: it has no final weights to sample"
        )
    return spec, record


def vouched_weights(run_dir: Path, record: RunRecord, weights: str) -> Path:
    """The path of the run's ``weights`` (checkpoint.pt or best.pt), checked against the size and
    SHA-256 its record vouches for; a :class:`UserError` when it has none, or they differ."""
    path = run_dir / weights
    if weights not in record.files:
        why = (
            "the run kept no best weights (it ran without --eval-every)"
            if weights == BEST_CHECKPOINT_FILE
            else ("its record vouches for no such file")
        )
        raise UserError(f"{shown(path)}: {why}")
    if (problem := digest_problem(path, record.files[weights])) is not None:
        raise UserError(f"{shown(path)}: {problem}; the run's weights are lost: run it again with --restart")
    return path


def load_model(
    run_dir: Path,
    spec: RunSpec,
    record: RunRecord,
    weights: str,
    registry: Registry,
    device: torch.device,
    sampling: Mapping[str, Any] | None = None,
) -> Model:
    """The run's model, built by its plugin for its dataset's shape with its hyperparameters, holding
    the weights of ``weights``, which the record must vouch for (size and SHA-256), and sampling
    under ``sampling`` (options unlike the model's defaults; None: the run's own)."""
    path = vouched_weights(run_dir, record, weights)
    entry, data = registry.model(spec.model), registry.dataset(spec.dataset)
    shape = spec.provenance.data_shape
    if data.cls.shape != shape:
        raise UserError(
            f"dataset '{spec.dataset}' is now {data.cls.shape}, the run trained on {shape}: not the same data"
        )
    seed_everything(spec.seed)  # As the run built it: a model's unsaved buffers (if any) come out alike.
    try:
        with torch.device(device):
            model: Model = entry.cls(shape, entry.cls.resolve_hparams(**spec.hparams))
        model.to(device)
        given = spec.evaluation.sampling if sampling is None else sampling
        model.sampling = entry.cls.resolve_sampling(**given)
        state = torch.load(path, map_location=device, weights_only=True)
        model.load_checkpoint_state(state["model"])
    except UserError:
        raise
    except Exception as error:  # Another version of the plugin, whose networks differ.
        raise UserError(
            f"{shown(path)}: model '{spec.model}' ({entry.distribution} {entry.version}) cannot load these "
            f"weights (the run used {spec.provenance.model_version}): {one_line(error, 300)}"
        ) from error
    return model
