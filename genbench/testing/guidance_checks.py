"""The model check of classifier-free guidance (Ho & Salimans 2022): its unconditional branch, the
prediction for "no class", sees no labels."""

from __future__ import annotations

import torch

from genbench.api import DataShape, Model
from genbench.testing.failures import model_check, require
from genbench.testing.inputs import build, train_on_batch
from genbench.testing.network_calls import NetworkCall, first_step_calls, time_networks

SAMPLES = 2  # Images sampled: one step of their chain is all the check runs.


def label_free_rows(a: list[NetworkCall], b: list[NetworkCall]) -> tuple[int, int]:
    """Of the rows the calls ``a`` evaluated, (how many, how many gave the same output in ``b``, the
    same calls under other labels)."""
    rows = same = 0
    for call_a, call_b in zip(a, b, strict=False):
        out_a, out_b = call_a.output, call_b.output
        if not (isinstance(out_a, torch.Tensor) and isinstance(out_b, torch.Tensor)) or out_a.ndim == 0:
            continue  # Outputs of no batch to compare row by row.
        rows += out_a.shape[0]
        if out_a.shape == out_b.shape:
            same += int((out_a == out_b).flatten(1).all(dim=1).sum())
    return rows, same


@model_check
def check_guidance(model_cls: type[Model], shape: DataShape) -> None:
    """Classifier-free guidance's unconditional branch sees no labels. At the first sampling step of
    a conditional model, a time-taking network (as :class:`~genbench.blocks.UNet`) that evaluates
    more rows than images is guided, its extra rows being the unconditional branch; drawn again
    under other labels (every image's label changed, the same noise), some of those rows must give
    the same predictions. Skipped for unconditional models, models without such a network, and
    conditional ones evaluating one row per image (no guidance, or a guidance scale of 1)."""
    model = build(model_cls, shape)
    if not model.conditional or not time_networks(model):
        return
    train_on_batch(model, 0)
    labels = torch.arange(SAMPLES) % shape.num_classes
    calls, _ = first_step_calls(model, SAMPLES, labels)
    others, _ = first_step_calls(model, SAMPLES, (labels + 1) % shape.num_classes)
    rows, same = label_free_rows(calls, others)
    if rows <= SAMPLES:
        return  # One prediction per image: nothing unconditional to check.
    name = calls[0].name
    require(
        same > 0,
        "guidance",
        f"at the first sampling step {name} evaluated {rows} rows for {SAMPLES} images (a conditional "
        "and an unconditional branch), and every row's prediction changed with the labels: the "
        "unconditional branch sees them",
        "give the unconditional branch the null class, never the labels (genbench.blocks.UNet: "
        "labels=None, or torch.full_like(labels, net.null_label) in the batch with the labels)",
    )
