"""``genbench eval``: a finished run's final (or best) weights scored again under other evaluation
options, without retraining.

The model is rebuilt and sampled as ``genbench sample`` does it (genbench.running.sample_export: the
weights the run's record vouches for, the run's seed, :func:`generate_counted`), and the samples are
scored on the dataset prepared as ``genbench run`` prepares it (genbench.running.preparation), under
the run's own options changed where asked (genbench.running.evaluation_options). With none changed,
the numbers are the run's own, exactly.

Where the record goes: ``RESULTS/evals/<run id>-eval-<hash>.json`` (genbench.core.layout.EVALS_DIR),
RESULTS being ``--out`` or else the results folder holding the run. It is a folder of its own, beside
``runs/``, ``floors/`` and ``scores/``, rather than a file inside the run's folder: a run's folder holds
what its training made (and ``--restart`` replaces it), and ``--out`` may name another results
folder than the run's. The hash covers the run's id, the weights' SHA-256, the sample count and the
evaluation setup (genbench.running.score_records): asked again with the same options, the record is
reused; after a run is trained again its weights differ, and so does the hash. The model's sampling
options (``--sample-set``, else the run's own) enter it when they differ from the model's defaults:
``genbench eval RUN --sample-set ddpm.sample_steps=10`` scores the same weights at 10 steps.

How the leaderboard shows it: as the run's model and seed (its training columns are the run's), with
an ``evaluation`` column saying what differs from the run's own evaluation (``n_samples 500``,
``best.pt``, ``as run``) and a ``setup`` of its own, the hash of the run's setup with the evaluation:
the summary, ``compare`` and the report pool it with the same evaluation of the run's other seeds,
never with the runs' own evaluations.
"""

from __future__ import annotations

import dataclasses
import platform
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genbench.core.files import atomic_write_json
from genbench.core.hashing import stable_hash
from genbench.core.layout import BEST_CHECKPOINT_FILE, CHECKPOINT_FILE, EVALS_DIR
from genbench.core.progress import ProgressSink, SilentProgress
from genbench.core.record import RunRecord
from genbench.core.registry import Registry
from genbench.core.run_spec import RunSpec
from genbench.errors import UserError
from genbench.evaluation.evaluate import evaluate
from genbench.options.config import RunOptions
from genbench.options.overrides import parse_set_options
from genbench.options.sampling import sampling_given
from genbench.results.leaderboard import rebuild_leaderboard
from genbench.running.device import device_name, resolve_device
from genbench.running.evaluation_options import evaluation_label, evaluation_options
from genbench.running.jobs import LoadedData
from genbench.running.preparation import DatasetPreparation
from genbench.running.sample_export import draw_samples, finished_run, load_model, vouched_weights
from genbench.running.score_records import earlier_record, protocol_identity

EVAL_VERSION = 1  # Bump when evaluating changes what a record means: earlier records are not reused.


@dataclass(frozen=True)
class PlannedEvaluation:
    """One finished run to score again, checked: its folder, spec, record, weights and options."""

    run_dir: Path
    spec: RunSpec
    record: RunRecord
    weights: str  # checkpoint.pt, or best.pt with --best.
    options: RunOptions
    sampling: dict[str, Any]  # The model's sampling options unlike its defaults (the run's, or given).


@dataclass(frozen=True)
class Evaluated:
    """An evaluation's record, where it is, and whether an earlier one was reused."""

    record: RunRecord
    path: Path
    reused: bool


def plan_evaluations(
    run_dirs: Sequence[Path],
    given: Mapping[str, Any],
    registry: Registry,
    *,
    best: bool = False,
    out: Path | None = None,
) -> list[PlannedEvaluation]:
    """Check every run and the options for each before any work: a :class:`UserError` for a folder
    that is not a finished run, weights its record does not vouch for, a model or dataset no plugin
    provides now, or a bad option (``given``: the command line's options by :class:`RunOptions` name,
    None where not given)."""
    if not run_dirs:
        raise UserError("give at least one RUN_DIR (RESULTS/runs/<run id>)")
    weights = BEST_CHECKPOINT_FILE if best else CHECKPOINT_FILE
    planned = []
    for run_dir in dict.fromkeys(run_dirs):  # A run given twice is evaluated once.
        spec, record = finished_run(run_dir)
        vouched_weights(run_dir, record, weights)
        model, _ = registry.model(spec.model), registry.dataset(spec.dataset)  # Installed still, or said now.
        options = evaluation_options(spec, given, out if out is not None else run_dir.parent.parent)
        resolve_device(options.device)  # cuda without a GPU: said now, not after the first run.
        sampling = sampling_given(model.cls, options.sampling.get(spec.model, {}))
        planned.append(PlannedEvaluation(run_dir, spec, record, weights, options, sampling))
    _check_sampled_models(given.get("sampling") or (), [plan.spec.model for plan in planned])
    return planned


def _check_sampled_models(items: Sequence[str], models: Sequence[str]) -> None:
    """Refuse ``--sample-set`` for a model none of the runs is of: a typo would score them as run."""
    for model in parse_set_options(items, flag="--sample-set"):
        if model not in models:
            raise UserError(
                f"--sample-set sets sampling options for '{model}', but no RUN_DIR is a run of it "
                f"(they are runs of {', '.join(dict.fromkeys(models))})"
            )


def evaluate_runs(
    planned: Sequence[PlannedEvaluation],
    registry: Registry,
    *,
    progress: ProgressSink | None = None,
    announce: Callable[[str], None] = lambda message: None,
    done: Callable[[Evaluated], None] = lambda evaluated: None,
) -> list[Evaluated]:
    """Score each planned run (``done`` hears each as it is); a dataset prepared under the same
    options is prepared once."""
    prepared: dict[str, tuple[DatasetPreparation, LoadedData]] = {}
    results = []
    for plan in planned:
        key = stable_hash({"dataset": plan.spec.dataset, "options": repr(plan.options)}, 16)
        if key not in prepared:
            device = resolve_device(plan.options.device)
            preparation = DatasetPreparation(plan.options, device, progress or SilentProgress(), announce)
            prepared[key] = preparation, preparation.load_and_prepare(registry.dataset(plan.spec.dataset))
        evaluated = _evaluate_run(plan, *prepared[key], registry, announce)
        done(evaluated)
        results.append(evaluated)
    return results


def _evaluate_run(
    plan: PlannedEvaluation,
    preparation: DatasetPreparation,
    data: LoadedData,
    registry: Registry,
    announce: Callable[[str], None],
) -> Evaluated:
    """The record of ``plan``'s evaluation: an earlier one where there is one, else scored now."""
    spec, name = plan.spec, plan.spec.dataset
    if preparation.data_sha256[name] != spec.provenance.data_sha256:
        raise UserError(
            f"{plan.run_dir}: dataset '{name}' is not the data the run trained on (its images or labels "
            "changed since); evaluate it where the run's data is"
        )
    identity = _identity(plan, data, preparation.data_sha256[name])
    run_id = f"{spec.run_id}-eval-{stable_hash(identity, 10)}"
    path = plan.options.out / EVALS_DIR / f"{run_id}.json"
    earlier = earlier_record(path, run_id, lambda record: record.evaluation is not None, announce)
    if earlier is not None:
        return Evaluated(earlier, path, reused=True)
    record = _record(plan, run_id, identity, data, registry)
    atomic_write_json(path, record.to_dict())
    rebuild_leaderboard(plan.options.out)
    return Evaluated(record, path, reused=False)


def _identity(plan: PlannedEvaluation, data: LoadedData, data_sha256: str) -> dict[str, Any]:
    """Everything that affects the evaluation's numbers: the run, the weights (by SHA-256), the sample
    count and seed, and the evaluation setup."""
    return {
        "version": EVAL_VERSION,
        "run_id": plan.spec.run_id,
        "run_setup": plan.spec.setup,
        "weights": plan.weights,
        "weights_sha256": plan.record.files[plan.weights].sha256,
        "seed": plan.spec.seed,
        "n_samples": plan.options.n_samples,
        **protocol_identity(plan.options, data, data_sha256),
        # Only when set: an evaluation under the defaults keeps the id it had before sampling options.
        **({"sampling": plan.sampling} if plan.sampling else {}),
    }


def _setup(identity: Mapping[str, Any]) -> str:
    """The evaluation's setup: its identity but for what is the run's own (its id, seed and weights):
    the same evaluation of the seeds of one experiment shares it, as their runs share theirs."""
    per_run = ("run_id", "seed", "weights_sha256")
    return stable_hash({key: value for key, value in identity.items() if key not in per_run}, 10)


def _record(
    plan: PlannedEvaluation, run_id: str, identity: Mapping[str, Any], data: LoadedData, registry: Registry
) -> RunRecord:
    """Sample the run's weights as its evaluation did, evaluate, and record it as the run's."""
    spec, run, device = plan.spec, plan.record, data.setup.device
    started = time.monotonic()
    model = load_model(plan.run_dir, spec, run, plan.weights, registry, device, plan.sampling)
    drawn = draw_samples(
        model, plan.options.n_samples, spec.seed, device, data.setup.progress, f"{spec.run_id}/sample"
    )
    sampled = time.monotonic()
    evaluation = evaluate(drawn.images, data.setup, drawn.labels, label=f"{spec.run_id}/")
    weights = {"weights": plan.weights, "weights_sha256": identity["weights_sha256"]}
    seconds = time.monotonic() - started
    return dataclasses.replace(
        run,  # The run's model, seed, budget and training figures; the evaluation's own rest.
        run_id=run_id,
        setup=_setup(identity),
        device=device_name(device),
        node=platform.node(),
        protocol_summary=data.setup.summary(),
        metrics=evaluation.metrics,
        protocol={column: {**entry, **weights} for column, entry in evaluation.protocol.items()},
        error=None,
        resumed_at_kimg=[],
        during_training=None,
        pictures_skipped={},
        progress_kimg=[],
        eval_seconds=round(seconds, 3),
        wall_seconds=round(seconds, 3),
        samples_out_of_range=drawn.out_of_range,
        phase_seconds={
            "sample": round(sampled - started, 3),
            **{f"metric/{name}": round(value, 3) for name, value in evaluation.seconds.items()},
        },
        files={},
        sampling=dataclasses.asdict(model.sampling),
        nfe=model.nfe,
        tracker_failures={},
        train_log=None,
        train_log_rows=None,
        evaluation={
            "run_id": spec.run_id,
            **weights,
            "label": evaluation_label(
                spec, plan.options, plan.weights, data.setup.inception.sha256, plan.sampling
            ),
            "n_samples": plan.options.n_samples,
            "options": {**_options(plan.options), "sampling": plan.sampling},
        },
    )


def _options(options: RunOptions) -> dict[str, Any]:
    """The evaluation options the record states."""
    return {
        "metrics": list(options.metrics),
        "n_samples": options.n_samples,
        "reference_split": options.reference_split,
        "n_reference": options.n_reference,
        "divergence_steps": options.divergence_steps,
        "bootstrap": options.bootstrap,
    }
