"""The built-in models ``dcgan`` and ``vae`` at every built-in shape, on the CPU, through the plugin API."""

from __future__ import annotations

import math
import re

import genbench_builtin.models
import pytest
import torch
from genbench_builtin.models import DCGAN, VAE
from genbench_builtin.models.dcgan import jsd_from_logits

from genbench import DataShape, Model, UserError
from genbench.blocks.conv_ladder import ladder_plan
from genbench.core.registry import Registry

SHAPES = [DataShape(1, 8, 10), DataShape(1, 28, 10), DataShape(3, 32, 10)]
MODELS = [DCGAN, VAE]
TRAIN_KEYS = {
    "dcgan": {"loss_d", "loss_g", "d_real", "d_fake", "jsd"},
    "vae": {"loss", "recon", "kl", "elbo"},
}
ESTIMATE_KEYS = {"dcgan": {"jsd", "d_real", "d_fake"}, "vae": {"loss", "recon", "kl", "elbo"}}
BATCH = 10


pytestmark = pytest.mark.usefixtures("one_thread")  # See conftest.one_thread.


every_model_and_shape = pytest.mark.parametrize(
    ("model_cls", "shape"),
    [(m, s) for m in MODELS for s in SHAPES],
    ids=[f"{m.name}-{s.channels}x{s.resolution}" for m in MODELS for s in SHAPES],
)


def _build(model_cls: type[Model], shape: DataShape, seed: int = 0, **overrides: object) -> Model:
    torch.manual_seed(seed)
    return model_cls.build(shape, **overrides)


def _batch(shape: DataShape, seed: int = 0) -> torch.Tensor:
    """Random images in [-1, 1]."""
    generator = torch.Generator().manual_seed(seed)
    return torch.rand((BATCH, *shape.image_shape), generator=generator) * 2 - 1


def _labels() -> torch.Tensor:
    return torch.zeros(BATCH, dtype=torch.long)


def _assert_finite_scalars(logs: dict[str, torch.Tensor], keys: set[str]) -> None:
    assert set(logs) == keys
    for key, value in logs.items():
        assert isinstance(value, torch.Tensor) and value.ndim == 0, key
        assert not value.requires_grad and torch.isfinite(value), (key, value)


@every_model_and_shape
def test_each_model_logs_its_documented_keys(model_cls: type[Model], shape: DataShape) -> None:
    # The generic behaviour (finite scalars, sampling, checkpoints, devices) is genbench.testing's.
    model = _build(model_cls, shape)
    _assert_finite_scalars(model.train_step(_batch(shape), _labels()), TRAIN_KEYS[model.name])
    model.eval()
    with torch.no_grad():
        _assert_finite_scalars(model.estimate(_batch(shape, 5), _labels()), ESTIMATE_KEYS[model.name])


def test_the_registry_lists_dcgan_and_vae() -> None:
    registry = Registry.discover([genbench_builtin.models], autoload=False)
    assert {"dcgan", "vae"} <= set(registry.models) and not registry.datasets
    assert registry.model("dcgan").cls is DCGAN and registry.model("vae").cls is VAE
    for name in ("dcgan", "vae"):
        assert registry.model(name).conditional is False and registry.model(name).description


@pytest.mark.parametrize(
    ("resolution", "stages", "base"), [(8, 1, 4), (12, 1, 6), (28, 2, 7), (32, 3, 4), (64, 3, 8)]
)
def test_the_ladder_depth_follows_the_resolution(resolution: int, stages: int, base: int) -> None:
    plan = ladder_plan(resolution, base_channels=16)
    assert (plan.stages, plan.base) == (stages, base)
    assert plan.widths == tuple(16 * 2**i for i in range(stages)) and plan.top_channels == plan.widths[-1]


@pytest.mark.parametrize("model_cls", MODELS)
@pytest.mark.parametrize("resolution", [6, 7, 9])
def test_a_resolution_without_a_ladder_is_a_user_error(model_cls: type[Model], resolution: int) -> None:
    with pytest.raises(UserError, match=f"got {resolution}"):
        model_cls.build(DataShape(1, resolution, 10))


@pytest.mark.parametrize("model_cls", MODELS)
def test_build_applies_overrides_and_refuses_unknown_names(model_cls: type[Model]) -> None:
    model = model_cls.build(SHAPES[0], lr=3e-5, batch_size=16)
    assert model.hparams.lr == 3e-5 and model.hparams.batch_size == 16
    assert model.optimizers and all(
        group["lr"] == 3e-5 for opt in model.optimizers.values() for group in opt.param_groups
    )
    with pytest.raises(UserError, match="no hyperparameter lrr"):
        model_cls.build(SHAPES[0], lrr=1e-3)


# --- dcgan ----------------------------------------------------------------------------------------


def test_jsd_is_log2_for_a_perfect_discriminator_and_0_for_a_blind_one() -> None:
    real, fake = torch.full((6,), 60.0), torch.full((6,), -60.0)
    assert jsd_from_logits(real, fake).item() == pytest.approx(math.log(2), abs=1e-6)
    assert jsd_from_logits(torch.zeros(6), torch.zeros(6)).item() == pytest.approx(0.0, abs=1e-7)
    # Any other discriminator that cannot tell them apart scores below the optimum's 0: a lower bound.
    same = torch.tensor([-2.0, 0.5, 3.0])
    assert jsd_from_logits(same, same).item() < -0.1


def test_jsd_matches_the_probability_formula_and_stays_finite_where_it_would_not() -> None:
    real, fake = torch.tensor([1.5, -0.3, 2.0]), torch.tensor([-1.0, 0.2, -2.5, 0.0])
    d_real, d_fake = torch.sigmoid(real), torch.sigmoid(fake)
    expected = math.log(2) + 0.5 * (d_real.log().mean() + (1 - d_fake).log().mean())
    assert jsd_from_logits(real, fake).item() == pytest.approx(expected.item(), rel=1e-6)
    # A confidently wrong discriminator: from probabilities, sigmoid(-200) underflows to 0 and
    # log(0) = -inf; from logits the estimate stays exact.
    wrong = jsd_from_logits(torch.tensor([-200.0]), torch.tensor([200.0]))
    assert wrong.item() == pytest.approx(math.log(2) - 200.0)


def test_dcgan_logs_the_jsd_of_the_discriminator_step() -> None:
    model = _build(DCGAN, SHAPES[1])
    logs = model.train_step(_batch(SHAPES[1]), _labels())
    # loss_d = -E log D(x) - E log(1 - D(G(z))) on the same logits, so jsd = log 2 - loss_d / 2.
    assert logs["jsd"].item() == pytest.approx(math.log(2) - logs["loss_d"].item() / 2, abs=1e-5)
    assert 0 < logs["d_fake"].item() < 1 and 0 < logs["d_real"].item() < 1


def test_dcgan_has_the_papers_layers_and_initialisation() -> None:
    model = _build(DCGAN, SHAPES[2])
    stages = list(model.discriminator[0])
    assert len(stages) == 3  # 32 -> 16 -> 8 -> 4.
    norms = [any(isinstance(m, torch.nn.BatchNorm2d) for m in stage) for stage in stages]
    assert norms == [False, True, True]  # No batch norm on the discriminator's first layer.
    assert isinstance(model.generator[-1], torch.nn.Tanh)
    conv_weights = torch.cat(
        [
            m.weight.flatten()
            for m in model.modules()
            if isinstance(m, torch.nn.Conv2d | torch.nn.ConvTranspose2d)
        ]
    )
    bn_weights = torch.cat([m.weight for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)])
    assert conv_weights.mean().abs() < 1e-3 and conv_weights.std().item() == pytest.approx(0.02, rel=0.02)
    assert bn_weights.mean().item() == pytest.approx(1.0, abs=0.01)
    assert bn_weights.std().item() == pytest.approx(0.02, rel=0.2)


# --- vae ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def digits() -> torch.Tensor:
    """128 of scikit-learn's 8x8 digits, 0..16 scaled to [-1, 1]."""
    from sklearn.datasets import load_digits

    images = torch.tensor(load_digits().images[:128], dtype=torch.float32)
    return images.unsqueeze(1) / 8 - 1


@pytest.mark.parametrize("recon", ["bce", "mse"])
def test_the_vae_learns_digits(digits: torch.Tensor, recon: str) -> None:
    model = _build(VAE, SHAPES[0], recon=recon)
    labels = torch.zeros(len(digits), dtype=torch.long)
    losses = torch.stack([model.train_step(digits, labels)["loss"] for _ in range(150)])
    assert losses[-10:].mean() < 0.8 * losses[0], losses
    with torch.no_grad():
        estimate = model.estimate(digits, labels)
    assert estimate["loss"] < 0.8 * losses[0] and estimate["kl"] > 0


def test_the_vae_refuses_an_unknown_reconstruction_loss() -> None:
    with pytest.raises(UserError, match=re.escape("vae.recon must be one of bce, mse; got 'l1'")):
        VAE.build(SHAPES[0], recon="l1")


def test_the_vae_terms_add_up_and_the_kl_vanishes_at_the_prior() -> None:
    model = _build(VAE, SHAPES[0])
    logs = model.train_step(_batch(SHAPES[0]), _labels())
    assert torch.allclose(logs["loss"], logs["recon"] + logs["kl"]) and torch.equal(
        logs["elbo"], -logs["loss"]
    )
    assert logs["kl"] >= 0
    # Pixels are independent Bernoullis: a decoder that outputs logit 0 everywhere costs log 2 per pixel.
    with torch.no_grad():
        for p in model.parameters():  # Encoder: mu = 0, logvar = 0; decoder: logits 0.
            p.zero_()
    estimate = model.estimate(_batch(SHAPES[0]), _labels())
    assert estimate["kl"].item() == pytest.approx(0.0, abs=1e-7)
    assert estimate["recon"].item() == pytest.approx(64 * math.log(2), rel=1e-6)


def test_the_vae_encodes_decodes_and_samples_from_its_prior() -> None:
    model = _build(VAE, SHAPES[1])
    images = _batch(SHAPES[1])
    mu = model.encode(images)
    assert mu.shape == (BATCH, 20) and torch.equal(mu, model.posterior(images)[0].detach())
    decoded = model.decode(mu)
    assert decoded.shape == images.shape and decoded.min() >= -1 and decoded.max() <= 1
    z = torch.randn(3, 20, generator=torch.Generator().manual_seed(4))
    assert torch.equal(model.sample(3, torch.Generator().manual_seed(4)), model.decode(z))
