"""The packing rule: a model that declares ``packable`` trains in a pack of seeds exactly as alone.

A pack (``genbench run --pack K``, genbench.running.packing) steps the seeds of one model in turn in
one process, each with its own copy of the global generators. That is exact only when a model keeps
all of its state in its own instance: a class attribute or module global changed by training (a
shared buffer, a step counter, a cache) would let one seed's steps change another's.
"""

from __future__ import annotations

import torch

from genbench.api import DataShape, Model
from genbench.testing.failures import listed, model_check, require
from genbench.testing.inputs import build, differing_parameters, train_on_batch

PACK_STEPS = 3  # Steps per seed: enough for Adam's moments and a two-step period to come round.


def _alone(model_cls: type[Model], shape: DataShape, seed: int) -> Model:
    model = build(model_cls, shape, seed=seed)
    for step in range(PACK_STEPS):
        train_on_batch(model, step)
    return model


@model_check
def check_packing(model_cls: type[Model], shape: DataShape) -> None:
    """Two seeds stepped in turn, each under its own state of torch's global generator (as a pack
    steps them), end with exactly the weights each reaches alone; skipped unless ``packable``."""
    if not model_cls.packable:
        return
    alone = [_alone(model_cls, shape, seed) for seed in (0, 1)]
    packed, states = [], []
    for seed in (0, 1):
        packed.append(build(model_cls, shape, seed=seed))
        states.append(torch.get_rng_state())
    for step in range(PACK_STEPS):
        for index, model in enumerate(packed):
            torch.set_rng_state(states[index])
            train_on_batch(model, step)
            states[index] = torch.get_rng_state()
    for seed, (theirs, ours) in enumerate(zip(alone, packed, strict=True)):
        differ = differing_parameters(theirs, ours)
        require(
            not differ,
            "packing",
            f"seed {seed} trained in turn with another seed ended with other {listed(differ)} than alone",
            "keep every training state in the model instance (no class attributes or module globals "
            "that training changes), or leave packable False",
        )
