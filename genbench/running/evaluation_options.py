"""The evaluation options of ``genbench eval``: a finished run's own, changed where the command line
says so, and a short label of what was changed (the leaderboard's ``evaluation`` column).

Left alone, every option is the run's own (its ``config.json``: metrics, sample count, reference split
and count, estimator steps, bootstrap resamples, the model's sampling options), so ``genbench eval RUN``
scores the run exactly as its own evaluation did; each option given replaces the run's value, validated
as ``genbench run`` validates it. ``--sample-set`` applies to the runs of the model it names.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from genbench.core.layout import BEST_CHECKPOINT_FILE
from genbench.core.metrics import format_count
from genbench.core.run_spec import RunSpec
from genbench.options.command_line import given_on_the_command_line
from genbench.options.config import RunOptions, resolve_options
from genbench.options.overrides import parse_set_options

AS_RUN = "as run"  # The label of an evaluation with the run's own options and final weights.
# The options genbench eval takes, as RunOptions names them, in the order a label names them.
EVALUATION_OPTIONS = (
    "n_samples",
    "metrics",
    "reference_split",
    "n_reference",
    "divergence_steps",
    "bootstrap",
)


def runs_own(spec: RunSpec) -> dict[str, Any]:
    """The run's own evaluation options, as :class:`RunOptions` names them."""
    evaluation = spec.evaluation
    return {
        "n_samples": evaluation.n_samples,
        "metrics": evaluation.metrics,
        "reference_split": evaluation.reference_split,
        "n_reference": evaluation.n_reference,
        "divergence_steps": evaluation.divergence.steps,
        "bootstrap": evaluation.intervals.resamples,
    }


def evaluation_options(spec: RunSpec, given: Mapping[str, Any], out: Path) -> RunOptions:
    """The options to score the run of ``spec`` under: its own, replaced by those ``given`` (as the
    command line gives them, None where not given), its dataset alone, records to ``out``. A
    :class:`UserError` for a value ``genbench run`` would refuse."""
    own = {**runs_own(spec), "datasets": (spec.dataset,), "models": (spec.model,), "out": out}
    if spec.evaluation.sampling:  # As a suite's [sampling.MODEL]: --sample-set changes it key by key.
        own["sampling"] = {spec.model: spec.evaluation.sampling}
    parsed = given_on_the_command_line({**given, "out": None, "sampling": None})
    sampling = parse_set_options(given.get("sampling") or (), flag="--sample-set").get(spec.model)
    if sampling:  # Options for other models' runs are theirs (genbench.running.run_evaluation checks).
        parsed["sampling"] = {spec.model: sampling}
    return resolve_options(own, parsed)


def sampling_label(own: Mapping[str, Any], used: Mapping[str, Any]) -> list[str]:
    """The sampling options (those unlike the model's defaults) of an evaluation, ``used``, that
    differ from the run's own, ``own``: ``sample_steps 10`` (``key default`` where one went back)."""
    return [
        f"{key} {_text(used[key]) if key in used else 'default'}"
        for key in sorted(set(own) | set(used))
        if own.get(key) != used.get(key)
    ]


def evaluation_label(
    spec: RunSpec,
    options: RunOptions,
    weights: str,
    inception_sha256: str | None,
    sampling: Mapping[str, Any] | None = None,
) -> str:
    """What differs from the run's own evaluation, short (``best.pt, n_samples 500``): the weights,
    each option given another value, the sampling options (``sampling``: those unlike the model's
    defaults), the Inception weights (by hash); :data:`AS_RUN` where nothing does."""
    own = runs_own(spec)
    parts = [BEST_CHECKPOINT_FILE] if weights == BEST_CHECKPOINT_FILE else []
    parts += [
        f"{name} {_text(getattr(options, name))}"
        for name in EVALUATION_OPTIONS
        if getattr(options, name) != own[name]
    ]
    own_sampling = spec.evaluation.sampling
    parts += sampling_label(own_sampling, own_sampling if sampling is None else sampling)
    ran_with = spec.provenance.inception_sha256
    if inception_sha256 is not None and inception_sha256 != ran_with:  # Other FID weights: other numbers.
        parts.append(f"fid_weights {inception_sha256[:8]}")
    return ", ".join(parts) or AS_RUN


def _text(value: Any) -> str:
    """An option's value, short: 1000 -> 1k, a list of metrics joined by commas, None -> all."""
    if value is None:
        return "all"
    if isinstance(value, tuple | list):
        return ",".join(map(str, value))
    if isinstance(value, int) and not isinstance(value, bool):
        return format_count(value)
    return str(value)
