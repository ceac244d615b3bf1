"""Temporarily switching a model to eval mode, for sampling, pictures and held-out estimates."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from torch import nn


@contextmanager
def eval_mode(module: nn.Module) -> Iterator[None]:
    """Run the block with ``module`` in eval mode, then restore each submodule's previous mode.

    Batch norm layers then use their running statistics and leave them unchanged, so sampling and
    estimating never alter the model. Each submodule's own flag is restored (not ``module.train()``,
    which would also switch on parts a plugin keeps frozen in eval mode), so a caller already in eval
    mode, or with some parts frozen in eval mode, stays as it was.
    """
    previous = [(m, m.training) for m in module.modules()]
    module.eval()
    try:
        yield
    finally:
        for m, training in previous:
            m.training = training
