"""What the built-in models' hyperparameters may be: one rule per field name, the same in every model,
which each ``Hparams.__post_init__`` applies to its fields, so ``--set dcgan.batch_size=0`` or
``--set dcgan.lr=nan`` is one line naming the model and the field before anything runs, not a run that
diverges at 0 kimg or fails inside torch."""

from __future__ import annotations

import dataclasses

from genbench.api import Bounds
from genbench.blocks.latent import PRIORS
from genbench.errors import UserError

# Rule name -> its bounds (genbench.api.Bounds: the checker and the message of the options, too).
RULES: dict[str, Bounds] = {
    "count": Bounds(low=1),  # Sizes, dimensions, steps per step.
    "positive": Bounds(low=0, low_open=True, finite=True, what="a finite positive number"),  # Rates.
    "beta": Bounds(low=0, high=1, high_open=True, what="in [0, 1)"),  # Adam's moment decays.
    "fraction": Bounds(low=0, high=1, high_open=True, what="in [0, 1)"),  # Dropout probabilities.
    "probability": Bounds(low=0, high=1, low_open=True, high_open=True, what="in (0, 1)"),  # A beta_t.
    "nonnegative": Bounds(low=0, finite=True, what="a finite number at least 0"),  # Guidance scales.
    "finite": Bounds(finite=True, what="a finite number"),  # Targets and other unbounded reals.
}


# Field name -> its rule (a key of RULES): a field means the same in every built-in model.
FIELD_RULES: dict[str, str] = {
    **dict.fromkeys(("batch_size", "latent_dim", "base_channels", "width", "label_dim"), "count"),
    **dict.fromkeys(("n_critic", "d_steps"), "count"),
    **dict.fromkeys(("res_blocks", "timesteps", "sample_steps"), "count"),  # Diffusion and flow models.
    **dict.fromkeys(("lr", "clip", "gp_weight", "grad_clip"), "positive"),
    **dict.fromkeys(("beta1", "beta2", "ema_decay"), "beta"),
    **dict.fromkeys(("dropout", "d_dropout", "label_dropout"), "fraction"),
    **dict.fromkeys(("beta_start", "beta_end"), "probability"),
    "guidance_scale": "nonnegative",
    **dict.fromkeys(("a", "b", "c"), "finite"),  # LSGAN's targets.
}


# Field name -> the words it may be: checked with the numbers, before anything runs (a model that
# checked its words when built failed as a run, after the sweep had started).
FIELD_CHOICES: dict[str, tuple[str, ...]] = {
    "recon": ("bce", "mse"),  # The VAE's reconstruction term.
    "prior": tuple(PRIORS),  # The MLP GANs' latent prior.
    "critic_norm": ("layer", "none"),  # WGAN-GP's critic normalisation.
}


def check_hparams(model: str, hparams: object) -> None:
    """Raise a :class:`UserError` naming ``model`` and the field for the first field of the dataclass
    ``hparams`` that breaks its rule (:data:`FIELD_RULES`) or is none of its words (:data:`FIELD_CHOICES`)."""
    for spec in dataclasses.fields(hparams):  # type: ignore[arg-type]
        value = getattr(hparams, spec.name)
        choices = FIELD_CHOICES.get(spec.name)
        if choices is not None and value not in choices:
            raise UserError(f"{model}.{spec.name} must be one of {', '.join(choices)}; got {value!r}")
        rule = FIELD_RULES.get(spec.name)
        if rule is not None:
            RULES[rule].check(f"{model}.{spec.name}", value)
