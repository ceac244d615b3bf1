"""The zoo's ``wgan``, ``wgan-gp`` and ``acgan`` at every built-in shape, through the plugin API.

Networks are shrunk (``SMALL``) wherever only the plumbing is under test, so the file runs in seconds
on a 2-core CPU; building, sampling and the hyperparameters are also checked at the defaults.
"""

from __future__ import annotations

import copy
import dataclasses
import io
import json

import pytest
import torch
from genbench_builtin.models.acgan import ACGAN
from genbench_builtin.models.wgan import WGAN
from genbench_builtin.models.wgan_gp import WGANGP, gradient_penalty
from torch import nn

from genbench import DataShape, Model, UserError

SHAPES = [DataShape(1, 8, 10), DataShape(1, 28, 10), DataShape(3, 32, 10)]
MODELS = [WGAN, WGANGP, ACGAN]
SMALL = {"base_channels": 4, "latent_dim": 8}
BATCH = 8
# Keys logged on every step; the Wasserstein GANs add ``loss_g`` on generator steps only.
STEP_KEYS = {
    "wgan": {"loss_d", "em"},
    "wgan-gp": {"loss_d", "em", "gp"},
    "acgan": {"loss_d", "loss_g", "jsd", "acc_real", "acc_fake"},
}
GENERATOR_STEP_KEYS = {"wgan": {"loss_g"}, "wgan-gp": {"loss_g"}, "acgan": set()}
ESTIMATE_KEYS = {"wgan": {"em"}, "wgan-gp": {"em"}, "acgan": {"jsd", "acc_real", "acc_fake"}}

every_model_and_shape = pytest.mark.parametrize(
    ("model_cls", "shape"),
    [(m, s) for m in MODELS for s in SHAPES],
    ids=[f"{m.name}-{s.channels}x{s.resolution}" for m in MODELS for s in SHAPES],
)


pytestmark = pytest.mark.usefixtures("one_thread")  # See conftest.one_thread.


def _build(model_cls: type[Model], shape: DataShape, seed: int = 0, **overrides: object) -> Model:
    torch.manual_seed(seed)
    return model_cls.build(shape, **overrides)


def _batch(shape: DataShape, seed: int = 0, n: int = BATCH) -> torch.Tensor:
    """Random images in [-1, 1]."""
    return torch.rand((n, *shape.image_shape), generator=torch.Generator().manual_seed(seed)) * 2 - 1


def _labels(seed: int = 0, n: int = BATCH) -> torch.Tensor:
    return torch.randint(10, (n,), generator=torch.Generator().manual_seed(seed))


def _steps_until_a_generator_step(model: Model) -> int:
    return getattr(model.hparams, "n_critic", 1)


def _assert_finite_scalars(logs: dict[str, torch.Tensor], keys: set[str]) -> None:
    assert set(logs) == keys
    for key, value in logs.items():
        assert isinstance(value, torch.Tensor) and value.ndim == 0, key
        assert not value.requires_grad and torch.isfinite(value), (key, value)


def _buffers(model: Model) -> dict[str, torch.Tensor]:
    return {name: buffer.clone() for name, buffer in model.named_buffers()}


@every_model_and_shape
def test_train_steps_log_the_documented_finite_scalars_and_train_both_networks(
    model_cls: type[Model], shape: DataShape
) -> None:
    model = _build(model_cls, shape, **SMALL)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    n = _steps_until_a_generator_step(model)
    for step in range(1, n + 2):
        logs = model.train_step(_batch(shape, step), _labels(step))
        generator_step = step % n == 0
        keys = STEP_KEYS[model.name] | (GENERATOR_STEP_KEYS[model.name] if generator_step else set())
        _assert_finite_scalars(logs, keys)
    unchanged = [name for name, p in model.named_parameters() if torch.equal(p, before[name])]
    # A critic's output bias shifts real and fake scores alike, so E f(x) - E f(G(z)) (and the penalty)
    # never moves it: it is the one parameter a Wasserstein critic leaves as built.
    assert unchanged == (["critic.1.0.bias"] if model.name.startswith("wgan") else [])


@every_model_and_shape
def test_samples_are_seeded_images_in_range_and_leave_the_model_as_it_was(
    model_cls: type[Model], shape: DataShape
) -> None:
    model = _build(model_cls, shape)  # Default hyperparameters: the real architecture at this shape.
    buffers = _buffers(model)
    samples = model.sample(5, torch.Generator().manual_seed(0))
    assert samples.shape == (5, *shape.image_shape) and samples.dtype == torch.float32
    assert samples.min() >= -1 and samples.max() <= 1 and not samples.requires_grad
    assert torch.equal(samples, model.sample(5, torch.Generator().manual_seed(0)))
    assert not torch.allclose(samples, model.sample(5, torch.Generator().manual_seed(1)))
    assert model.training and all(m.training for m in model.modules())
    assert all(torch.equal(b, buffers[name]) for name, b in model.named_buffers())


@every_model_and_shape
def test_estimates_are_finite_deterministic_and_touch_nothing(
    model_cls: type[Model], shape: DataShape
) -> None:
    model = _build(model_cls, shape, **SMALL)
    model.train_step(_batch(shape), _labels())
    model.eval()
    buffers, rng = _buffers(model), torch.get_rng_state()
    with torch.no_grad():
        first = model.estimate(_batch(shape, seed=5), _labels(5))
        second = model.estimate(_batch(shape, seed=5), _labels(5))
    _assert_finite_scalars(first, ESTIMATE_KEYS[model.name])
    assert all(torch.equal(first[key], second[key]) for key in first)
    assert torch.equal(torch.get_rng_state(), rng)
    assert all(torch.equal(b, buffers[name]) for name, b in model.named_buffers())


@every_model_and_shape
def test_models_build_on_whatever_device_is_current(model_cls: type[Model], shape: DataShape) -> None:
    with torch.device("meta"):
        model = model_cls.build(shape)
    tensors = [*model.parameters(), *model.buffers()]
    assert tensors and all(t.is_meta for t in tensors)


@pytest.mark.parametrize("model_cls", MODELS)
def test_hyperparameters_round_trip_through_json(model_cls: type[Model]) -> None:
    hparams = model_cls.resolve_hparams()
    assert isinstance(hparams, model_cls.Hparams)
    assert model_cls.Hparams(**json.loads(json.dumps(dataclasses.asdict(hparams)))) == hparams
    assert all(f.default is not dataclasses.MISSING for f in dataclasses.fields(hparams))


@pytest.mark.parametrize("model_cls", MODELS)
def test_build_applies_overrides_and_refuses_unknown_names(model_cls: type[Model]) -> None:
    model = model_cls.build(SHAPES[0], lr=3e-5, batch_size=16)
    assert model.hparams.lr == 3e-5 and model.hparams.batch_size == 16
    assert set(model.optimizers) >= {"generator"} and len(model.optimizers) == 2
    assert all(g["lr"] == 3e-5 for opt in model.optimizers.values() for g in opt.param_groups)
    with pytest.raises(UserError, match="no hyperparameter lrr"):
        model_cls.build(SHAPES[0], lrr=1e-3)


@pytest.mark.parametrize("model_cls", MODELS)
def test_a_checkpoint_restores_samples_and_the_schedule(model_cls: type[Model]) -> None:
    shape = SHAPES[0]
    model = _build(model_cls, shape, **SMALL)
    for seed in range(3):
        model.train_step(_batch(shape, seed), _labels(seed))
    # Through bytes, as the runner saves it: the state must load weights-only and share no tensors.
    buffer = io.BytesIO()
    torch.save(model.checkpoint_state(), buffer)
    buffer.seek(0)
    fresh = _build(model_cls, shape, seed=1, **SMALL)
    fresh.load_checkpoint_state(torch.load(buffer, weights_only=True))

    def draw(m: Model) -> torch.Tensor:
        return m.sample(4, torch.Generator().manual_seed(3))

    assert torch.equal(draw(model), draw(fresh))
    for seed in range(3, 6):  # The generator steps fall on the same calls, with the same results.
        torch.manual_seed(seed)
        logs = model.train_step(_batch(shape, seed), _labels(seed))
        torch.manual_seed(seed)
        fresh_logs = fresh.train_step(_batch(shape, seed), _labels(seed))
        assert set(logs) == set(fresh_logs) and all(torch.equal(logs[k], fresh_logs[k]) for k in logs)
    assert torch.equal(draw(model), draw(fresh))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU; this machine has none")
@pytest.mark.parametrize("model_cls", MODELS)
def test_training_sampling_and_estimates_run_on_cuda(model_cls: type[Model]) -> None:
    shape = SHAPES[2]
    with torch.device("cuda"):
        model = _build(model_cls, shape, **SMALL)
    images, labels = _batch(shape).cuda(), _labels().cuda()
    for _ in range(_steps_until_a_generator_step(model) + 1):
        logs = model.train_step(images, labels)
    assert all(v.is_cuda and torch.isfinite(v) for v in logs.values())
    generator = torch.Generator("cuda").manual_seed(0)
    assert model.sample(3, generator).is_cuda
    with torch.no_grad():
        assert all(torch.isfinite(v) for v in model.estimate(images, labels).values())


# --- wgan -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s.channels}x{s.resolution}")
def test_wgan_clips_every_critic_parameter_after_a_step(shape: DataShape) -> None:
    model = _build(WGAN, shape, **SMALL)
    clip = model.hparams.clip

    def largest() -> float:
        return max(p.detach().abs().max().item() for p in model.critic.parameters())

    assert largest() > clip  # N(0, 0.02) conv weights and batch norm's scales near 1.
    model.train_step(_batch(shape), _labels())
    assert largest() == pytest.approx(clip, rel=1e-6) and largest() <= clip


def test_wgan_updates_the_generator_every_n_critic_steps_only() -> None:
    shape = SHAPES[0]
    model = _build(WGAN, shape, n_critic=3, **SMALL)
    generator_steps = []
    for step in range(1, 8):
        before = [p.detach().clone() for p in model.generator.parameters()]
        logs = model.train_step(_batch(shape, step), _labels(step))
        moved = any(not torch.equal(p, b) for p, b in zip(model.generator.parameters(), before, strict=True))
        assert moved == ("loss_g" in logs)
        generator_steps += [step] if moved else []
    assert generator_steps == [3, 6]
    # The generator's update leaves the critic trainable afterwards.
    assert all(p.requires_grad for p in model.critic.parameters())


@pytest.mark.parametrize("model_cls", [WGAN, WGANGP])
def test_a_critic_step_logs_the_critics_own_earth_mover_estimate_and_loss(model_cls: type[Model]) -> None:
    shape = SHAPES[1]
    model = _build(model_cls, shape, **SMALL)
    twin = copy.deepcopy(model)  # The critic and generator before the step's update, scored apart.
    images = _batch(shape)
    torch.manual_seed(7)
    logs = model.train_step(images, _labels())
    # The step's fakes: its latents are its first draw from the global RNG (the N(0, I) prior), decoded
    # in training mode as the step does; the penalty's interpolation weights are the next draw.
    torch.manual_seed(7)
    with torch.no_grad():
        fake = twin.generator(torch.randn(BATCH, twin.hparams.latent_dim))
        real_mean, fake_mean = twin.critic(images).mean().item(), twin.critic(fake).mean().item()
    em = real_mean - fake_mean  # E f(x) - E f(G(z)), before the update.
    loss_d = -em
    if model_cls is WGANGP:
        loss_d += twin.hparams.gp_weight * gradient_penalty(twin.critic, images, fake).item()
    # The means differ by far more than the tolerance, so a swapped sign or a wrong term would show.
    assert abs(em) > 1e-3
    assert logs["em"].item() == pytest.approx(em, rel=1e-4)
    assert logs["loss_d"].item() == pytest.approx(loss_d, rel=1e-4)


def test_wgan_refuses_a_non_positive_clip_and_n_critic() -> None:
    with pytest.raises(UserError, match=r"wgan\.clip must be a finite positive number"):
        WGAN.build(SHAPES[0], clip=0.0)
    with pytest.raises(UserError, match=r"wgan\.n_critic must be at least 1"):
        WGAN.build(SHAPES[0], n_critic=0)


# --- wgan-gp --------------------------------------------------------------------------------------


def _linear_critic(norm: float) -> nn.Module:
    """``f(x) = <w, x>`` with ``‖w‖ = norm``: its gradient norm is ``norm`` everywhere."""
    linear = nn.Linear(64, 1, bias=False)
    with torch.no_grad():
        linear.weight.copy_(torch.randn(1, 64, generator=torch.Generator().manual_seed(0)))
        linear.weight.mul_(norm / linear.weight.norm())
    return nn.Sequential(nn.Flatten(1), linear, nn.Flatten(0))


def test_the_gradient_penalty_vanishes_for_a_unit_gradient_critic_and_grows_otherwise() -> None:
    real, fake = _batch(SHAPES[0], 1), _batch(SHAPES[0], 2)
    assert gradient_penalty(_linear_critic(1.0), real, fake).item() == pytest.approx(0.0, abs=1e-10)
    assert gradient_penalty(_linear_critic(2.0), real, fake).item() == pytest.approx(1.0, rel=1e-5)
    assert gradient_penalty(_linear_critic(0.5), real, fake).item() == pytest.approx(0.25, rel=1e-5)
    # A constant critic has no gradient at all: the penalty is (0 - 1)^2 and stays finite.
    assert gradient_penalty(lambda x: x.sum(dim=(1, 2, 3)) * 0.0, real, fake).item() == pytest.approx(1.0)


def test_the_gradient_penalty_is_differentiable_in_the_critics_weights() -> None:
    critic = _linear_critic(2.0)
    gradient_penalty(critic, _batch(SHAPES[0], 1), _batch(SHAPES[0], 2)).backward()
    weight = critic[1].weight
    # d/dw (‖w‖ - 1)^2 = 2 (‖w‖ - 1) w / ‖w‖ = w at ‖w‖ = 2: through a double backward.
    assert torch.allclose(weight.grad, weight.detach(), atol=1e-6)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s.channels}x{s.resolution}")
def test_wgan_gp_adds_the_weighted_penalty_to_a_critic_without_batch_norm(shape: DataShape) -> None:
    model = _build(WGANGP, shape, **SMALL)
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.critic.modules())
    logs = model.train_step(_batch(shape), _labels())
    assert logs["gp"] > 0
    expected = -logs["em"] + model.hparams.gp_weight * logs["gp"]
    assert logs["loss_d"].item() == pytest.approx(expected.item(), rel=1e-5)


def test_wgan_gp_offers_layer_norm_or_none_and_refuses_batch_norm() -> None:
    layer = _build(WGANGP, SHAPES[2], **SMALL)
    assert any(isinstance(m, nn.GroupNorm) and m.num_groups == 1 for m in layer.critic.modules())
    plain = _build(WGANGP, SHAPES[2], critic_norm="none", **SMALL)
    assert not any(isinstance(m, nn.GroupNorm) for m in plain.critic.modules())
    with pytest.raises(UserError, match="critic_norm must be one of layer, none; got 'batch'"):
        WGANGP.build(SHAPES[2], critic_norm="batch")


def test_wgan_gp_steps_with_its_double_backward_on_the_meta_device() -> None:
    shape = SHAPES[2]
    with torch.device("meta"):
        model = WGANGP.build(shape)
    # The step outside the device context, as the runner calls it (it builds under one, steps outside):
    # under it, torch 2.11 made Adam's step counter, a CPU scalar it reads with .item(), a meta tensor
    # (2.13 and 2.14 make it on the CPU explicitly), and the step failed (issue 25).
    images = torch.empty(4, *shape.image_shape, device="meta")
    logs = model.train_step(images, torch.zeros(4, dtype=torch.long, device="meta"))
    assert set(logs) == STEP_KEYS["wgan-gp"] and all(v.is_meta for v in logs.values())


# --- acgan ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s.channels}x{s.resolution}")
def test_acgan_sampling_honours_the_labels(shape: DataShape) -> None:
    model = _build(ACGAN, shape, **SMALL)
    model.train_step(_batch(shape), _labels())

    def draw(labels: list[int] | None) -> torch.Tensor:
        given = None if labels is None else torch.tensor(labels)
        return model.sample(4, torch.Generator().manual_seed(0), given)

    assert torch.equal(draw([0, 1, 2, 3]), draw([0, 1, 2, 3]))
    changed = (draw([0, 1, 2, 3]) != draw([0, 1, 5, 3])).flatten(1).any(dim=1)
    assert changed.tolist() == [False, False, True, False]  # Only the image whose class changed.
    assert torch.equal(draw(None), draw(None))


def test_acgan_refuses_a_label_count_that_is_not_the_sample_count() -> None:
    model = _build(ACGAN, SHAPES[0], **SMALL)
    with pytest.raises(ValueError, match="one label per image"):
        model.sample(3, torch.Generator().manual_seed(0), torch.tensor([1, 2]))


def test_acgan_discriminator_has_a_source_and_a_class_head() -> None:
    model = _build(ACGAN, SHAPES[1], **SMALL)
    source, classes = model.discriminator(_batch(SHAPES[1]))
    assert source.shape == (BATCH,) and classes.shape == (BATCH, 10)
    assert ACGAN.conditional and ACGAN.Hparams().batch_size == 100


def test_acgan_accuracies_are_fractions_of_the_batch() -> None:
    model = _build(ACGAN, SHAPES[0], **SMALL)
    logs = model.train_step(_batch(SHAPES[0]), _labels())
    for key in ("acc_real", "acc_fake"):
        correct = logs[key].item() * BATCH
        assert 0 <= logs[key] <= 1 and correct == pytest.approx(round(correct))
