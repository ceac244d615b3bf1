"""Each built-in model learns: on real digits, a short seeded CPU run brings its reference-classifier
Fréchet distance clearly below the same model's at initialisation."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from setups import make_setup

from genbench.api import Split
from genbench.core.batches import DeviceBatches
from genbench.core.progress import SilentProgress
from genbench.core.registry import Registry
from genbench.core.run_spec import Budget, Schedule, TrainingSpec
from genbench.evaluation.classifier import ClassifierInfo, cached_classifier
from genbench.evaluation.evaluate import cheap_fd
from genbench.running.single_run import seed_everything
from genbench.running.training import LogOnlyHooks, train

CPU = torch.device("cpu")
N_SAMPLES = 1000
# Budget (kimg on the 1,437 training digits) per model: short, but enough for a clear improvement.
BUDGET_KIMG = {
    "vae": 20.0,
    "gan": 20.0,
    "dcgan": 20.0,
    "wgan": 40.0,  # One generator update per five critic batches, at RMSprop's small step.
    "wgan-gp": 80.0,
    "acgan": 10.0,
    "cgan": 20.0,
    "lsgan": 20.0,
    "ddpm": 16.0,  # With OVERRIDES; DDPM's noise prediction learns more slowly than a velocity.
    "ddpm-cond": 16.0,
    "flow-matching": 10.0,
    "flow-matching-cond": 10.0,
}
# Hyperparameters that keep a model's test CI-sized: each diffusion sample is many network calls, and
# their defaults (a 32-wide U-Net, 50 steps, Ho et al.'s lr 2e-4) take minutes here. On this budget
# a 16-wide U-Net at lr 1e-3 learns as clearly, and 10 sampling steps measure it.
DIFFUSION_TEST_HPARAMS = {"base_channels": 16, "lr": 1e-3}
DIFFUSION_TEST_SAMPLING = {"sample_steps": 10}  # Sampling options (--sample-set), not hyperparameters.
OVERRIDES: dict[str, dict[str, object]] = dict.fromkeys(
    ("ddpm", "ddpm-cond", "flow-matching", "flow-matching-cond"), DIFFUSION_TEST_HPARAMS
)
# "Clearly below": at most this fraction of the FD at initialisation.
IMPROVEMENT = 0.5


pytestmark = pytest.mark.usefixtures("one_thread")  # See conftest.one_thread.


@pytest.fixture(scope="module")
def digits() -> tuple[Split, Split, ClassifierInfo]:
    from genbench_builtin.datasets import Digits

    dataset = Digits(Path("unused"))
    train_split, test = dataset.load("train"), dataset.load("test")
    cache = Path(os.environ.get("GENBENCH_CACHE_DIR", "results/.cache")) / "classifiers"
    return train_split, test, cached_classifier("digits", Digits.shape, train_split, test, cache, CPU)


def test_every_builtin_model_has_a_learning_budget() -> None:
    entries = Registry.discover(autoload=True).entries()
    # Built-in models only: an installed third-party package (the example plugin, say) adds its own.
    builtin = [e for e in entries if e.kind == "model" and e.cls.__module__.startswith("genbench_builtin.")]
    registered = {e.name for e in builtin}
    assert registered == set(BUDGET_KIMG)


@pytest.mark.parametrize("name", sorted(BUDGET_KIMG))
def test_model_learns_digits(name: str, digits: tuple[Split, Split, ClassifierInfo], tmp_path: Path) -> None:
    from genbench_builtin.datasets import Digits

    train_split, test, classifier = digits
    model_cls = Registry.discover(autoload=True).model(name).cls
    seed_everything(0)
    model = model_cls.build(Digits.shape, **OVERRIDES.get(name, {}))
    if name in OVERRIDES:
        model.sampling = model_cls.resolve_sampling(**DIFFUSION_TEST_SAMPLING)

    setup = make_setup("digits", test, classifier, tmp_path)

    def fd() -> float:  # The run's own measure: seeded samples' reference-classifier FD.
        return cheap_fd(model, setup, N_SAMPLES, seed=0)

    at_init = fd()
    batches = DeviceBatches(train_split, CPU, seed=0)
    hooks = LogOnlyHooks(lambda row: None)
    spec = TrainingSpec(Budget(BUDGET_KIMG[name]), Schedule(log_every=50))
    train(model, batches, test, spec, hooks, SilentProgress())
    trained = fd()
    assert trained < IMPROVEMENT * at_init, f"{name}: FD {at_init:.1f} at init, {trained:.1f} after training"
