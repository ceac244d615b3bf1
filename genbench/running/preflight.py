"""What a sweep checks of its models before anything is loaded or written: that each model can be built
for each dataset's shape, and that the chosen metrics give each model something to compute.

Without these, a model that refuses a shape (a conditional model on a single-class dataset, a
convolutional one on an odd resolution) failed as a run once the sweep was under way, and
``--metrics acc_clf`` for an unconditional model computed nothing without a word.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch

from genbench.api import Hyperparameters
from genbench.core.metrics import metric
from genbench.core.registry import PluginEntry
from genbench.errors import UserError


def check_models_fit(
    models: Iterable[tuple[PluginEntry, Hyperparameters]], datasets: Iterable[PluginEntry]
) -> None:
    """Build each model for each dataset's shape on the meta device (no memory, no arithmetic); a
    model's :class:`UserError` is the sweep's, naming both. Other errors are left to the run, which
    contains them as a failed record: they may be artefacts of the meta device."""
    for data in datasets:
        for entry, hparams in models:
            try:
                with torch.device("meta"):
                    entry.cls(data.cls.shape, hparams)
            except UserError as error:
                where = f"model '{entry.name}' cannot run on dataset '{data.name}'"
                raise UserError(f"{where}: {error}") from error
            except Exception:  # The run itself reports it, with its traceback in error.log.
                continue


def check_metrics_apply(
    models: Iterable[PluginEntry], metrics: tuple[str, ...], chosen: bool, note: Callable[[str], None]
) -> None:
    """Refuse metrics that give a model nothing to compute; with metrics the user ``chosen``, say in one
    line which of them a model does not get (the default list holds metrics for conditional models)."""
    for entry in models:
        skipped = [name for name in metrics if not metric(name).applies_to(bool(entry.conditional))]
        if not skipped:
            continue
        kind = "conditional" if entry.conditional else "unconditional"
        if len(skipped) == len(metrics):
            raise UserError(
                f"--metrics {','.join(metrics)}: none applies to the {kind} model '{entry.name}' "
                f"({', '.join(skipped)}: conditional models only); add a metric such as fd_clf"
            )
        if chosen:
            what = f"{', '.join(skipped)} (conditional models only)"
            note(f"note: '{entry.name}' is {kind}: its runs compute no {what}")
