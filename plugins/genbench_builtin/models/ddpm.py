"""``ddpm`` and ``ddpm-cond``: denoising diffusion probabilistic models (Ho, Jain & Abbeel 2020).

The forward process adds Gaussian noise over ``T = 1000`` steps with the linear variance schedule
``beta_t`` from 1e-4 to 0.02, so ``x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps`` with ``abar_t =
prod(1 - beta_s)``. A U-Net ``eps_theta(x_t, t)`` predicts the noise and trains on Ho et al.'s
``L_simple = E ||eps - eps_theta(x_t, t)||^2`` at a uniform step ``t`` (their algorithm 1).

Sampling runs on a *respaced* subsequence of ``sample_steps`` (a sampling option; all ``T`` when it
asks for more) of the ``T`` steps, evenly spread from
``T - 1`` down to 0 (Nichol & Dhariwal 2021, section 4; Song et al. 2021, section 4.2), with the
generalised step of DDIM (Song, Meng & Ermon 2021, equation 12)::

    x0    = clip((x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t), -1, 1)
    x_prev = sqrt(abar_prev) x0 + sqrt(1 - abar_prev - sigma^2) eps' + sigma z
    sigma  = eta sqrt((1 - abar_prev) / (1 - abar_t)) sqrt(1 - abar_t / abar_prev)

where ``eps'`` is the noise implied by the clipped ``x0`` (Ho et al. clip ``x0`` to the data range
too). ``sampler="ddim"`` (the default) is ``eta = 0``: deterministic, so an image is a function of its
starting noise and ``decode(latents)`` works (interpolations in the report); DDIM's table 1 shows it
far better than ancestral sampling at 50 steps. ``sampler="ancestral"`` is ``eta = 1``, which is
Ho et al.'s ancestral sampler with variance ``beta~_t`` on the respaced chain (Song et al. 2021,
section 4.1); its samples then depend on fresh noise at each step, so the model offers no latents.

Sampling, pictures and held-out estimates use an EMA of the weights (:class:`genbench.blocks.EMA`),
as Ho et al. do. ``ddpm-cond`` adds classifier-free guidance (see :mod:`.denoising`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from genbench import DataShape, UserError
from genbench_builtin.models.denoising import DenoisingHparams, DenoisingModel, DenoisingSampling
from genbench_builtin.models.hparam_rules import check_hparams

SAMPLERS = {"ddim": 0.0, "ancestral": 1.0}  # Sampler name -> DDIM's eta.


def linear_alpha_bars(timesteps: int, beta_start: float, beta_end: float) -> torch.Tensor:
    """``abar_t = prod_{s <= t} (1 - beta_s)`` for Ho et al.'s linear ``beta_t``, ``(timesteps,)``
    float32, computed in float64 as they do (the product of a thousand factors loses digits in
    float32), on the current default device."""
    betas = torch.linspace(beta_start, beta_end, timesteps, dtype=torch.float64)
    return torch.cumprod(1 - betas, dim=0).to(torch.float32)


def respaced_steps(timesteps: int, sample_steps: int) -> list[int]:
    """``sample_steps`` distinct steps from ``timesteps - 1`` down to 0, evenly spread (rounded); all
    ``timesteps`` of them when ``sample_steps`` is more (a chain has no more distinct steps)."""
    sample_steps = min(sample_steps, timesteps)
    if sample_steps == 1:
        return [timesteps - 1]
    last = timesteps - 1
    return [round(last * (1 - i / (sample_steps - 1))) for i in range(sample_steps)]


def ddim_step(
    x: torch.Tensor,
    eps: torch.Tensor,
    abar: torch.Tensor,
    abar_prev: torch.Tensor,
    eta: float,
    noise: torch.Tensor | None,
) -> torch.Tensor:
    """One step of DDIM's generalised sampler (Song et al. 2021, equation 12) from ``x`` at ``abar``
    to ``abar_prev`` given the predicted noise ``eps``, with ``x0`` clipped to [-1, 1]; ``noise`` is
    needed when ``eta > 0``."""
    x0 = ((x - (1 - abar).sqrt() * eps) / abar.sqrt()).clamp(-1, 1)
    eps = (x - abar.sqrt() * x0) / (1 - abar).sqrt()  # The noise the clipped x0 implies.
    sigma = eta * ((1 - abar_prev) / (1 - abar) * (1 - abar / abar_prev)).sqrt()
    x_prev = abar_prev.sqrt() * x0 + (1 - abar_prev - sigma**2).clamp(min=0).sqrt() * eps
    if noise is not None and eta > 0:
        x_prev = x_prev + sigma * noise
    return x_prev


class DDPM(DenoisingModel):
    """DDPM (Ho et al. 2020): U-Net noise predictor, linear betas 1e-4..0.02 over 1000 steps, sampled
    by DDIM (eta = 0, default) or ancestrally on ``sample_steps`` respaced steps with EMA weights
    (sampling options: ``sample_steps``, ``sampler``, ``guidance_scale``).

    Logs per step and on test images: ``loss``, ``L_simple`` (mean squared error of the predicted
    noise per pixel).
    """

    name = "ddpm"
    description = "DDPM (Ho et al. 2020): U-Net noise predictor, linear betas, EMA, DDIM 50 steps"
    conditional = False

    @dataclass
    class Hparams(DenoisingHparams):
        """DDPM's hyperparameters: the shared ones (:class:`DenoisingHparams`) and the diffusion's."""

        timesteps: int = 1000  # Ho et al.'s T.
        beta_start: float = 1e-4  # Ho et al.'s linear schedule.
        beta_end: float = 0.02
        model_name: ClassVar[str] = "ddpm"  # Named in the messages of __post_init__.

        def __post_init__(self) -> None:
            check_hparams(self.model_name, self)
            if self.beta_start >= self.beta_end:
                raise UserError(
                    f"{self.model_name}.beta_start must be below beta_end ({self.beta_end}), "
                    f"got {self.beta_start}"
                )

    @dataclass
    class Sampling(DenoisingSampling):
        """DDPM's sampling options: the shared ones (:class:`DenoisingSampling`) and the sampler."""

        sampler: str = "ddim"  # "ddim" (eta = 0, deterministic) or "ancestral" (eta = 1).
        sample_steps: int = 50  # DDIM's table 1: 50 steps come close to 1000 on CIFAR-10.
        model_name: ClassVar[str] = "ddpm"

        def __post_init__(self) -> None:
            super().__post_init__()
            if self.sampler not in SAMPLERS:
                raise UserError(
                    f"{self.model_name}.sampler must be one of {', '.join(SAMPLERS)}; got {self.sampler!r}"
                )

    hparams: Hparams
    sampling: Sampling

    def __init__(self, shape: DataShape, hparams: Hparams) -> None:
        super().__init__(shape, hparams)
        # Not persistent: the hyperparameters define it, so checkpoints need not carry it.
        alpha_bars = linear_alpha_bars(hparams.timesteps, hparams.beta_start, hparams.beta_end)
        self.register_buffer("alpha_bars", alpha_bars, persistent=False)

    def loss_terms(
        self,
        net: nn.Module,
        images: torch.Tensor,
        labels: torch.Tensor | None,
        generator: torch.Generator | None,
    ) -> dict[str, torch.Tensor]:
        """``L_simple`` at steps ``t ~ U{0, ..., T-1}`` with noise ``eps ~ N(0, I)`` (Ho et al.,
        algorithm 1; their t = 1..T is 0..T-1 here)."""
        t = torch.randint(
            self.hparams.timesteps, (images.shape[0],), generator=generator, device=images.device
        )
        eps = torch.randn(images.shape, generator=generator, device=images.device, dtype=images.dtype)
        abar = self.alpha_bars[t].view(-1, 1, 1, 1)
        noisy = abar.sqrt() * images + (1 - abar).sqrt() * eps
        return {"loss": F.mse_loss(net(noisy, t, labels), eps)}

    def integrate(
        self, noise: torch.Tensor, labels: torch.Tensor | None, generator: torch.Generator | None
    ) -> torch.Tensor:
        """The respaced reverse chain from ``noise`` at step ``T - 1`` to an image; DDIM (ignores
        ``generator``) unless the sampler is ancestral and ``generator`` is given."""
        eta = SAMPLERS[self.sampling.sampler] if generator is not None else 0.0
        steps = respaced_steps(self.hparams.timesteps, self.sampling.sample_steps)
        x = noise
        for i, step in enumerate(steps):
            abar = self.alpha_bars[step]
            # Past the last step comes the data itself: abar = 1 (the step's x0, noise-free).
            abar_prev = self.alpha_bars[steps[i + 1]] if i + 1 < len(steps) else torch.ones_like(abar)
            eps = self.guided(x, torch.full((x.shape[0],), step, device=x.device), labels)
            last = i + 1 == len(steps)
            z = None
            if eta > 0 and not last:
                z = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
            x = ddim_step(x, eps, abar, abar_prev, eta, z)
        return x

    @property
    def nfe(self) -> int:
        """One (guided: two) network evaluation per respaced step."""
        steps = min(self.sampling.sample_steps, self.hparams.timesteps)
        return steps * self.evaluations_per_step

    def latents(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """The starting noises ``(n, C, H, W)``; with the ancestral sampler, which draws fresh noise at
        every step, a sample is no function of them, so there are none (``NotImplementedError``)."""
        if SAMPLERS[self.sampling.sampler] > 0:
            raise NotImplementedError(f"{self.name} with sampler={self.sampling.sampler} has no latent space")
        return self.starting_noise(n, generator)


class DDPMCond(DDPM):
    """``ddpm`` conditioned on the class, with classifier-free guidance (Ho & Salimans 2022)."""

    name = "ddpm-cond"
    description = "DDPM, class-conditional with classifier-free guidance (Ho & Salimans 2022)"
    conditional = True

    @dataclass
    class Hparams(DDPM.Hparams):
        """``ddpm``'s hyperparameters with ``conditional`` on."""

        conditional: bool = True
        model_name: ClassVar[str] = "ddpm-cond"

    @dataclass
    class Sampling(DDPM.Sampling):
        """``ddpm``'s sampling options, named ``ddpm-cond`` in messages."""

        model_name: ClassVar[str] = "ddpm-cond"
