"""``flow-matching`` and ``flow-matching-cond``: conditional flow matching on straight paths.

Noise ``x_0 ~ N(0, I)`` and an image ``x_1`` are joined by the straight line ``x_t = (1 - t) x_0 +
t x_1``, whose velocity is ``x_1 - x_0``. A U-Net ``v_theta(x_t, t)`` regresses that velocity at a
uniform time ``t``: the conditional flow matching loss of Lipman et al. (2023, equation 9) for their
optimal-transport path with ``sigma_min = 0``, which is also rectified flow's objective (Liu, Gong &
Liu 2023, equation 1; Tong et al. 2024 call it I-CFM). Its minimiser is the velocity field whose
flow carries the noise distribution to the data distribution.

Sampling integrates ``dx/dt = v(x, t)`` from ``t = 0`` (noise) to ``t = 1`` (image) in
``sample_steps`` equal steps with Euler's method (one network evaluation per step) or the explicit
midpoint method (two per step, second order): ``sample_steps``, ``integrator`` and
``guidance_scale`` are sampling options (``--sample-set``), which never retrain. The flow is
deterministic, so an image is a function of its starting noise: ``decode(latents)`` is ``sample``.

The U-Net's sinusoidal time embedding sees ``1000 t``, the range of DDPM's integer steps, for which
its frequencies were chosen. Sampling, pictures and held-out estimates use an EMA of the weights;
``flow-matching-cond`` adds classifier-free guidance on the velocity (see :mod:`.denoising`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from genbench import UserError
from genbench_builtin.models.denoising import DenoisingHparams, DenoisingModel, DenoisingSampling
from genbench_builtin.models.hparam_rules import check_hparams

INTEGRATORS = ("euler", "midpoint")
TIME_SCALE = 1000.0  # t in [0, 1] -> the U-Net's embedding of 0..1000, DDPM's step range.


class FlowMatching(DenoisingModel):
    """Conditional flow matching / rectified flow (Lipman et al. 2023; Liu et al. 2023): U-Net
    velocity on straight noise-to-image paths, sampled by Euler or midpoint steps with EMA weights.

    Logs per step and on test images: ``loss``, the flow matching loss (mean squared error of the
    velocity per pixel).
    """

    name = "flow-matching"
    description = "Flow matching (Lipman et al. 2023; rectified flow): U-Net velocity, EMA, Euler 50 steps"
    conditional = False

    @dataclass
    class Hparams(DenoisingHparams):
        """Flow matching's hyperparameters: the shared ones (:class:`DenoisingHparams`)."""

        model_name: ClassVar[str] = "flow-matching"  # Named in the messages of __post_init__.

        def __post_init__(self) -> None:
            check_hparams(self.model_name, self)

    @dataclass
    class Sampling(DenoisingSampling):
        """Flow matching's sampling options: the shared ones (:class:`DenoisingSampling`) and the
        integrator."""

        integrator: str = "euler"  # "euler" (one evaluation per step) or "midpoint" (two).
        model_name: ClassVar[str] = "flow-matching"

        def __post_init__(self) -> None:
            super().__post_init__()
            if self.integrator not in INTEGRATORS:
                raise UserError(
                    f"{self.model_name}.integrator must be one of {', '.join(INTEGRATORS)}; "
                    f"got {self.integrator!r}"
                )

    hparams: Hparams
    sampling: Sampling

    def loss_terms(
        self,
        net: nn.Module,
        images: torch.Tensor,
        labels: torch.Tensor | None,
        generator: torch.Generator | None,
    ) -> dict[str, torch.Tensor]:
        """``E ||v(x_t, t) - (x_1 - x_0)||^2`` at ``t ~ U[0, 1)``, ``x_0 ~ N(0, I)``, ``x_1`` the images."""
        n, device = images.shape[0], images.device
        t = torch.rand(n, generator=generator, device=device, dtype=images.dtype)
        noise = torch.randn(images.shape, generator=generator, device=device, dtype=images.dtype)
        ts = t.view(-1, 1, 1, 1)
        x_t = (1 - ts) * noise + ts * images
        return {"loss": F.mse_loss(net(x_t, t * TIME_SCALE, labels), images - noise)}

    def velocity(self, x: torch.Tensor, t: float, labels: torch.Tensor | None) -> torch.Tensor:
        """The EMA network's (guided) velocity at ``x`` and time ``t``."""
        times = torch.full((x.shape[0],), t * TIME_SCALE, device=x.device, dtype=x.dtype)
        return self.guided(x, times, labels)

    def integrate(
        self, noise: torch.Tensor, labels: torch.Tensor | None, generator: torch.Generator | None
    ) -> torch.Tensor:
        """The flow from ``noise`` at ``t = 0`` to ``t = 1`` in ``sample_steps`` equal steps of the
        integrator; deterministic (``generator`` is unused)."""
        steps = self.sampling.sample_steps
        h = 1.0 / steps
        x = noise
        for k in range(steps):
            t = k * h
            if self.sampling.integrator == "midpoint":
                halfway = x + 0.5 * h * self.velocity(x, t, labels)
                x = x + h * self.velocity(halfway, t + 0.5 * h, labels)
            else:
                x = x + h * self.velocity(x, t, labels)
        return x


    @property
    def nfe(self) -> int:
        """One network evaluation per step (midpoint: two), each doubled when guided."""
        per_step = 2 if self.sampling.integrator == "midpoint" else 1
        return self.sampling.sample_steps * per_step * self.evaluations_per_step


class FlowMatchingCond(FlowMatching):
    """``flow-matching`` conditioned on the class, with classifier-free guidance (Ho & Salimans 2022)."""

    name = "flow-matching-cond"
    description = "Flow matching, class-conditional with classifier-free guidance (Ho & Salimans 2022)"
    conditional = True

    @dataclass
    class Hparams(FlowMatching.Hparams):
        """``flow-matching``'s hyperparameters with ``conditional`` on."""

        conditional: bool = True
        model_name: ClassVar[str] = "flow-matching-cond"

    @dataclass
    class Sampling(FlowMatching.Sampling):
        """``flow-matching``'s sampling options, named ``flow-matching-cond`` in messages."""

        model_name: ClassVar[str] = "flow-matching-cond"
