"""The built-in diffusion and flow models (``ddpm``, ``flow-matching`` and their ``-cond`` variants): the
schedule and samplers as their papers state them, sampling from the EMA weights, deterministic
``decode``, and classifier-free guidance whose unconditional branch never sees a label. What every
model must do (shapes, ranges, checkpoints, resume) is the contract's, tests/test_model_contract.py."""

from __future__ import annotations

import genbench_builtin.models
import pytest
import torch
from genbench_builtin.models import DDPM, DDPMCond, FlowMatching, FlowMatchingCond
from genbench_builtin.models.ddpm import ddim_step, linear_alpha_bars, respaced_steps
from genbench_builtin.models.denoising import DenoisingModel

from genbench import DataShape, UserError

SHAPE = DataShape(1, 8, 10)
TINY = {"base_channels": 8}
TINY_SAMPLING = {"sample_steps": 4}
MODELS = [DDPM, DDPMCond, FlowMatching, FlowMatchingCond]

pytestmark = pytest.mark.usefixtures("one_thread")  # See conftest.one_thread.


def _trained(
    model_cls: type[DenoisingModel], steps: int = 2, sampling: dict | None = None, **overrides: object
) -> DenoisingModel:
    torch.manual_seed(0)
    model = model_cls.build(SHAPE, **{**TINY, **overrides})
    model.sampling = model_cls.resolve_sampling(**{**TINY_SAMPLING, **(sampling or {})})
    generator = torch.Generator().manual_seed(0)
    for _ in range(steps):
        images = torch.rand((8, *SHAPE.image_shape), generator=generator) * 2 - 1
        model.train_step(images, torch.randint(0, 10, (8,), generator=generator))
    return model


def _labels(model: DenoisingModel, n: int, value: int = 0) -> torch.Tensor | None:
    return torch.full((n,), value, dtype=torch.long) if model.conditional else None


def test_the_builtin_plugin_registers_the_four_models() -> None:
    registered = genbench_builtin.models.register_models()
    for cls in MODELS:
        assert cls in registered and cls.description
        assert cls.conditional is cls.name.endswith("-cond")
        assert cls.Hparams().conditional is cls.conditional  # The variants differ by this default.


def test_the_linear_schedule_and_its_respacing_are_ho_et_al_s() -> None:
    alpha_bars = linear_alpha_bars(1000, 1e-4, 0.02)
    assert alpha_bars[0] == pytest.approx(1 - 1e-4)
    assert float(alpha_bars[-1]) == pytest.approx(4.04e-5, rel=0.01)  # Nearly pure noise at t = T.
    assert bool((alpha_bars[1:] < alpha_bars[:-1]).all())
    steps = respaced_steps(1000, 50)
    assert (
        steps[0] == 999 and steps[-1] == 0 and len(set(steps)) == 50 and steps == sorted(steps, reverse=True)
    )
    assert respaced_steps(1000, 1) == [999] and respaced_steps(10, 10) == list(range(9, -1, -1))


def test_a_ddim_step_with_the_true_noise_lands_on_the_image() -> None:
    generator = torch.Generator().manual_seed(0)
    x0 = torch.rand((2, 1, 4, 4), generator=generator) * 2 - 1
    eps = torch.randn((2, 1, 4, 4), generator=generator)
    abar, one = torch.tensor(0.3), torch.tensor(1.0)
    x_t = abar.sqrt() * x0 + (1 - abar).sqrt() * eps
    torch.testing.assert_close(ddim_step(x_t, eps, abar, one, eta=0.0, noise=None), x0)
    # Halfway, eta = 0 keeps the same noise direction: x_prev is the forward process at abar_prev.
    half = torch.tensor(0.6)
    expected = half.sqrt() * x0 + (1 - half).sqrt() * eps
    torch.testing.assert_close(ddim_step(x_t, eps, abar, half, eta=0.0, noise=None), expected)


@pytest.mark.parametrize("model_cls", MODELS, ids=[m.name for m in MODELS])
def test_decode_is_deterministic_and_is_sample(model_cls: type[DenoisingModel]) -> None:
    model = _trained(model_cls)
    latents = model.latents(3, torch.Generator().manual_seed(5))
    assert latents.shape == (3, *SHAPE.image_shape)
    labels = _labels(model, 3, value=2)
    first = model.decode(latents, labels)
    assert torch.equal(first, model.decode(latents.clone(), labels))
    assert torch.equal(first, model.sample(3, torch.Generator().manual_seed(5), labels))


def test_ancestral_sampling_draws_fresh_noise_and_offers_no_latents() -> None:
    model = _trained(DDPM, sampling={"sampler": "ancestral"})
    draw = model.sample(3, torch.Generator().manual_seed(5))
    assert torch.equal(draw, model.sample(3, torch.Generator().manual_seed(5)))
    with pytest.raises(NotImplementedError, match="sampler=ancestral"):
        model.latents(3, torch.Generator().manual_seed(5))
    deterministic = _trained(DDPM)  # The same weights, sampled by DDIM from the same starting noise.
    assert not torch.equal(draw, deterministic.sample(3, torch.Generator().manual_seed(5)))


@pytest.mark.parametrize("model_cls", [DDPM, FlowMatchingCond], ids=["ddpm", "flow-matching-cond"])
def test_samples_come_from_the_ema_weights(model_cls: type[DenoisingModel]) -> None:
    model = _trained(model_cls)
    assert int(model.ema.num_updates) == 2  # One update per training step.
    state = model.state_dict()
    assert "ema.num_updates" in state and any(k.startswith("ema.network.") for k in state)
    assert all(p.requires_grad is False for p in model.ema.network.parameters())
    draw = model.sample(2, torch.Generator().manual_seed(1), _labels(model, 2))
    with torch.no_grad():
        for p in model.net.parameters():  # The trained weights: sampling ignores them.
            p.add_(1.0)
    assert torch.equal(draw, model.sample(2, torch.Generator().manual_seed(1), _labels(model, 2)))
    with torch.no_grad():
        model.ema.network.head[-1].bias.add_(0.5)
    assert not torch.equal(draw, model.sample(2, torch.Generator().manual_seed(1), _labels(model, 2)))


@pytest.mark.parametrize("model_cls", [DDPMCond, FlowMatchingCond], ids=["ddpm-cond", "flow-matching-cond"])
def test_guidance_s_unconditional_branch_ignores_the_labels(model_cls: type[DenoisingModel]) -> None:
    model = _trained(model_cls, steps=4)
    x, t = torch.randn(4, *SHAPE.image_shape), torch.full((4,), 500)
    zeros, sevens = torch.zeros(4, dtype=torch.long), torch.full((4,), 7)
    with torch.no_grad():
        model.sampling.guidance_scale = 0.0  # Nothing but the unconditional branch.
        unconditional = model.guided(x, t, zeros)
        torch.testing.assert_close(model.guided(x, t, sevens), unconditional, rtol=0, atol=1e-6)
        torch.testing.assert_close(model.ema.network(x, t, None), unconditional, rtol=0, atol=1e-6)
        model.sampling.guidance_scale = 2.0  # Guided: 2 cond - uncond, which does see the labels.
        guided = model.guided(x, t, zeros)
        expected = 2 * model.ema.network(x, t, zeros) - unconditional
        torch.testing.assert_close(guided, expected, rtol=1e-5, atol=1e-5)
        assert not torch.allclose(guided, model.guided(x, t, sevens))


def test_the_conditional_hyperparameter_decides_whether_labels_are_needed() -> None:
    model = _trained(DDPM, conditional=True)
    assert model.conditional and not DDPM.conditional and model.net.labels is not None
    with pytest.raises(ValueError, match="needs 2 labels"):
        model.decode(model.latents(2, torch.Generator().manual_seed(0)))
    plain = _trained(FlowMatchingCond, conditional=False)
    assert not plain.conditional and plain.net.labels is None


@pytest.mark.parametrize("integrator", ["euler", "midpoint"])
def test_the_integrators_follow_a_constant_velocity_exactly(integrator: str) -> None:
    model = FlowMatching.build(SHAPE, **TINY)
    model.sampling = FlowMatching.resolve_sampling(**TINY_SAMPLING, integrator=integrator)
    calls = []

    def constant(x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        calls.append(float(t[0]))
        return torch.full_like(x, 0.25)

    model.guided = constant  # type: ignore[method-assign]
    noise = torch.zeros(2, *SHAPE.image_shape)
    torch.testing.assert_close(model.integrate(noise, None, None), torch.full_like(noise, 0.25))
    per_step = 2 if integrator == "midpoint" else 1
    assert len(calls) == per_step * TINY_SAMPLING["sample_steps"] == model.nfe
    assert calls[0] == 0.0 and max(calls) < 1000.0  # Times 0 <= t < 1, scaled by 1000.


def test_inconsistent_hyperparameters_are_refused() -> None:
    with pytest.raises(UserError, match=r"^ddpm\.beta_start must be below beta_end"):
        DDPM.Hparams(beta_start=0.03)


@pytest.mark.parametrize(
    ("model_cls", "options", "message"),
    [
        (DDPMCond, {"sample_steps": 0}, r"^ddpm-cond\.sample_steps must be at least 1"),
        (DDPM, {"sampler": "euler"}, r"^ddpm\.sampler must be one of ddim, ancestral"),
        (FlowMatching, {"integrator": "rk4"}, r"^flow-matching\.integrator must be one of euler, midpoint"),
        (FlowMatchingCond, {"guidance_scale": -1.0}, r"^flow-matching-cond\.guidance_scale must be a finite"),
    ],
)
def test_bad_sampling_options_are_refused(
    model_cls: type[DenoisingModel], options: dict[str, object], message: str
) -> None:
    with pytest.raises(UserError, match=message):
        model_cls.Sampling(**options)


def test_sampling_options_are_not_hyperparameters_and_set_the_nfe() -> None:
    hparams = {f for f in DDPM.Hparams.__dataclass_fields__}
    assert not hparams & {"sample_steps", "sampler", "guidance_scale"}
    assert DDPM.resolve_sampling().sample_steps == 50
    assert FlowMatching.resolve_sampling().integrator == "euler"
    assert DDPM.expensive_sampling and FlowMatching.expensive_sampling
    assert _trained(DDPM, steps=0).nfe == 4
    assert _trained(DDPMCond, steps=0).nfe == 8  # Guided: both branches, each step.
    assert _trained(DDPMCond, steps=0, sampling={"guidance_scale": 1.0}).nfe == 4
    assert _trained(FlowMatching, steps=0, sampling={"integrator": "midpoint"}).nfe == 8
    short = _trained(DDPM, steps=0, timesteps=3)  # More steps than the chain has: the whole chain.
    assert respaced_steps(3, 4) == [2, 1, 0] and short.nfe == 3


def test_the_steps_change_the_samples_of_the_same_weights() -> None:
    model = _trained(DDPM)
    at_four = model.sample(2, torch.Generator().manual_seed(3))
    model.sampling = DDPM.resolve_sampling(sample_steps=2)
    assert not torch.equal(at_four, model.sample(2, torch.Generator().manual_seed(3)))
