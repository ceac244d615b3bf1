"""The zoo's GAN family ``gan``, ``cgan`` and ``lsgan`` at every built-in shape, on the CPU, through the
plugin API; then what each model adds: the label conditioning, ``k`` discriminator steps, the
least-squares coding and its χ² bound."""

from __future__ import annotations

import math

import pytest
import torch
from genbench_builtin.models.cgan import CGAN
from genbench_builtin.models.gan import GAN
from genbench_builtin.models.lsgan import LSGAN, chi2_from_scores

from genbench import DataShape, Model, UserError
from genbench.blocks.latent import draw_latents

SHAPES = [DataShape(1, 8, 10), DataShape(1, 28, 10), DataShape(3, 32, 10)]
MODELS = [GAN, CGAN, LSGAN]
TRAIN_KEYS = {
    "gan": {"loss_d", "loss_g", "d_real", "d_fake", "jsd"},
    "cgan": {"loss_d", "loss_g", "d_real", "d_fake", "jsd"},
    "lsgan": {"loss_d", "loss_g", "d_real", "d_fake", "chi2"},
}
ESTIMATE_KEYS = {
    "gan": {"jsd", "d_real", "d_fake"},
    "cgan": {"jsd", "d_real", "d_fake"},
    "lsgan": {"chi2", "d_real", "d_fake"},
}
BATCH = 10

every_model_and_shape = pytest.mark.parametrize(
    ("model_cls", "shape"),
    [(m, s) for m in MODELS for s in SHAPES],
    ids=[f"{m.name}-{s.channels}x{s.resolution}" for m in MODELS for s in SHAPES],
)


def _build(model_cls: type[Model], shape: DataShape = SHAPES[0], seed: int = 0, **overrides: object) -> Model:
    torch.manual_seed(seed)
    return model_cls.build(shape, **overrides)


def _batch(shape: DataShape = SHAPES[0], seed: int = 0) -> torch.Tensor:
    """Random images in [-1, 1]."""
    return torch.rand((BATCH, *shape.image_shape), generator=torch.Generator().manual_seed(seed)) * 2 - 1


def _labels(seed: int = 0) -> torch.Tensor:
    return torch.randint(10, (BATCH,), generator=torch.Generator().manual_seed(seed))


def _assert_finite_scalars(logs: dict[str, torch.Tensor], keys: set[str]) -> None:
    assert set(logs) == keys
    for key, value in logs.items():
        assert isinstance(value, torch.Tensor) and value.ndim == 0, key
        assert not value.requires_grad and torch.isfinite(value), (key, value)


def _draw(model: Model, seed: int, n: int = 5, labels: torch.Tensor | None = None) -> torch.Tensor:
    return model.sample(n, torch.Generator().manual_seed(seed), labels)


pytestmark = pytest.mark.usefixtures("one_thread")  # See conftest.one_thread.


# --- every model at every shape ---------------------------------------------------------------------


@every_model_and_shape
def test_steps_and_estimates_log_the_documented_keys(model_cls: type[Model], shape: DataShape) -> None:
    model = _build(model_cls, shape)
    for seed in (0, 1):
        _assert_finite_scalars(model.train_step(_batch(shape, seed), _labels(seed)), TRAIN_KEYS[model.name])
    model.eval()
    with torch.no_grad():
        _assert_finite_scalars(model.estimate(_batch(shape, 2), _labels(2)), ESTIMATE_KEYS[model.name])
    samples = _draw(model, 0)
    assert samples.shape == (5, *shape.image_shape) and samples.min() >= -1 and samples.max() <= 1


@pytest.mark.parametrize("model_cls", MODELS)
def test_overrides_reach_the_optimizers_and_unknown_names_are_refused(model_cls: type[Model]) -> None:
    model = model_cls.build(SHAPES[0], lr=3e-5, batch_size=16)
    assert model.hparams.batch_size == 16
    assert all(group["lr"] == 3e-5 for opt in model.optimizers.values() for group in opt.param_groups)
    with pytest.raises(UserError, match="no hyperparameter lrr"):
        model_cls.build(SHAPES[0], lrr=1e-3)


# --- gan and cgan -----------------------------------------------------------------------------------


@pytest.mark.parametrize("model_cls", [GAN, CGAN])
def test_the_logged_jsd_is_the_bound_of_the_discriminator_step(model_cls: type[Model]) -> None:
    logs = _build(model_cls).train_step(_batch(), _labels())
    # loss_d = -E log D(x) - E log(1 - D(G(z))) on the same logits, so jsd = log 2 - loss_d / 2.
    assert logs["jsd"].item() == pytest.approx(math.log(2) - logs["loss_d"].item() / 2, abs=1e-5)
    assert 0 < logs["d_fake"].item() < 1 and 0 < logs["d_real"].item() < 1


@pytest.mark.parametrize("model_cls", [GAN, CGAN])
def test_k_discriminator_steps_per_generator_step(model_cls: type[Model]) -> None:
    assert model_cls.resolve_hparams().d_steps == 1  # The papers' k = 1.
    model = _build(model_cls, d_steps=3)
    model.train_step(_batch(), _labels())
    steps = {name: opt.state_dict()["state"][0]["step"].item() for name, opt in model.optimizers.items()}
    assert steps == {"discriminator": 3, "generator": 1}


@pytest.mark.parametrize("model_cls", [GAN, CGAN])
def test_the_he_initialised_generator_starts_with_diverse_samples(model_cls: type[Model]) -> None:
    # PyTorch's default initialisation made every sample nearly the same image (std ~0.03 per pixel).
    samples = _draw(_build(model_cls), 0, n=64, labels=torch.zeros(64, dtype=torch.long))
    assert samples.std(dim=0).mean() > 0.2


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"prior": "cauchy"}, "prior must be one of normal, uniform; got 'cauchy'"),
        ({"d_dropout": 1.0}, r"d_dropout must be in \[0, 1\), got 1.0"),
        ({"d_steps": 0}, "d_steps must be at least 1, got 0"),
        ({"width": 0}, "width must be at least 1, got 0"),
    ],
)
@pytest.mark.parametrize("model_cls", [GAN, CGAN])
def test_bad_hyperparameters_are_user_errors(model_cls: type[Model], overrides: dict, message: str) -> None:
    with pytest.raises(UserError, match=f"{model_cls.name}.{message}"):
        model_cls.build(SHAPES[0], **overrides)


def test_the_uniform_prior_fills_the_unit_hypercube() -> None:
    z = draw_latents(2000, 3, "uniform", torch.device("cpu"), torch.Generator().manual_seed(0))
    assert z.min() >= 0 and z.max() < 1 and z.mean().item() == pytest.approx(0.5, abs=0.02)
    model = _build(GAN, prior="uniform")
    assert torch.isfinite(model.train_step(_batch(), _labels())["jsd"])


# --- cgan: the labels -------------------------------------------------------------------------------


def test_cgan_draws_image_i_for_label_i_from_the_same_latents() -> None:
    model = _build(CGAN)
    model.train_step(_batch(), _labels())
    labels = torch.tensor([0, 1, 2, 1, 0, 2])
    mixed = _draw(model, 4, n=6, labels=labels)
    for k in range(3):
        same = _draw(model, 4, n=6, labels=torch.full((6,), k))
        assert torch.equal(mixed[labels == k], same[labels == k])
    assert torch.equal(mixed, _draw(model, 4, n=6, labels=labels.clone()))


def test_cgan_samples_follow_the_label_embedding() -> None:
    model = _build(CGAN)
    zeros, ones = torch.zeros(4, dtype=torch.long), torch.ones(4, dtype=torch.long)
    embedding = model.generator.embedding.weight
    with torch.no_grad():
        embedding[1] = embedding[0]  # Classes 0 and 1 look the same to the generator...
    assert torch.equal(_draw(model, 0, 4, zeros), _draw(model, 0, 4, ones))
    with torch.no_grad():
        embedding[1] += 0.5  # ...until their embeddings differ.
    assert not torch.allclose(_draw(model, 0, 4, zeros), _draw(model, 0, 4, ones))
    assert torch.equal(_draw(model, 0, 4, ones), _draw(model, 0, 4, ones))


def test_cgan_draws_uniform_labels_with_the_generator_when_given_none() -> None:
    model = _build(CGAN)
    unlabelled = _draw(model, 2, n=200)
    assert torch.equal(unlabelled, _draw(model, 2, n=200))
    expected = torch.Generator().manual_seed(2)
    torch.randn(200, model.hparams.latent_dim, generator=expected)  # The latents come first.
    labels = torch.randint(10, (200,), generator=expected)
    assert len(labels.unique()) == 10 and torch.equal(unlabelled, _draw(model, 2, n=200, labels=labels))
    with pytest.raises(ValueError, match="needs 5 labels"):
        _draw(model, 0, n=5, labels=torch.zeros(4, dtype=torch.long))


def test_cgan_judges_image_label_pairs() -> None:
    model = _build(CGAN)
    model.eval()
    images = _batch()
    with torch.no_grad():
        assert not torch.allclose(
            model.discriminate(images, torch.zeros(BATCH, dtype=torch.long)),
            model.discriminate(images, torch.ones(BATCH, dtype=torch.long)),
        )
        first, second = model.estimate(images, _labels(0)), model.estimate(images, _labels(1))
    assert first["d_real"] != second["d_real"] and first["d_fake"] != second["d_fake"]


# --- lsgan ------------------------------------------------------------------------------------------


def _weighted_scores(scores: list[float], counts: list[int]) -> torch.Tensor:
    """Samples in which each score appears ``count`` times: an empirical distribution over scores."""
    return torch.tensor(scores).repeat_interleave(torch.tensor(counts))


@pytest.mark.parametrize(("a", "b"), [(0.0, 1.0), (-1.0, 1.0), (2.0, -3.0)])
def test_chi2_is_the_pearson_divergence_at_the_optimal_discriminator_and_below_it_elsewhere(
    a: float, b: float
) -> None:
    # Data and model on three points, with probabilities in quarters, as four samples each.
    p, q = torch.tensor([2.0, 1.0, 1.0]) / 4, torch.tensor([1.0, 1.0, 2.0]) / 4
    pearson = ((p - q).square() / (p + q)).sum().item()  # The paper's χ²_Pearson(p + q ‖ 2q).
    optimal = ((b * p + a * q) / (p + q)).tolist()  # D* on each point.
    real, fake = _weighted_scores(optimal, [2, 1, 1]), _weighted_scores(optimal, [1, 1, 2])
    assert chi2_from_scores(real, fake, a, b).item() == pytest.approx(pearson, rel=1e-5)
    worse = [s + 0.1 for s in optimal]
    real, fake = _weighted_scores(worse, [2, 1, 1]), _weighted_scores(worse, [1, 1, 2])
    assert chi2_from_scores(real, fake, a, b).item() < pearson
    # 2 when the scores separate perfectly, 0 for the best constant discriminator.
    assert chi2_from_scores(torch.full((3,), b), torch.full((3,), a), a, b).item() == pytest.approx(2.0)
    middle = torch.full((3,), (a + b) / 2)
    assert chi2_from_scores(middle, middle, a, b).item() == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize(("a", "b", "c"), [(0.0, 1.0, 1.0), (-1.0, 1.0, 0.0)])
def test_lsgan_logs_the_least_squares_losses_of_its_coding(a: float, b: float, c: float) -> None:
    model = _build(LSGAN, SHAPES[1], a=a, b=b, c=c)
    real_scores = model.discriminator(_batch(SHAPES[1])).detach()  # Batch statistics: as in the step.
    logs = model.train_step(_batch(SHAPES[1]), _labels())
    assert logs["d_real"].item() == pytest.approx(real_scores.mean().item(), abs=1e-6)
    assert logs["chi2"].item() == pytest.approx(2 - 8 * logs["loss_d"].item() / (b - a) ** 2, rel=1e-5)
    assert logs["loss_d"] >= 0 and logs["loss_g"] >= 0


def test_lsgan_defaults_to_the_papers_0_1_coding_and_refuses_equal_targets() -> None:
    hparams = LSGAN.resolve_hparams()
    assert (hparams.a, hparams.b, hparams.c) == (0.0, 1.0, 1.0) and (hparams.lr, hparams.beta1) == (2e-4, 0.5)
    with pytest.raises(UserError, match="lsgan needs a != b"):
        LSGAN.build(SHAPES[0], a=1.0, b=1.0)
    # The discriminator's scores are raw, not squashed into probabilities.
    assert not isinstance(_build(LSGAN).discriminator[-1], torch.nn.Sigmoid)
