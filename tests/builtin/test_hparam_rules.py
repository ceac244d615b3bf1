"""Every built-in model refuses nonsensical hyperparameters before anything runs, naming model and field."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from typer.testing import CliRunner

from genbench import UserError
from genbench.cli import app
from genbench.core.registry import Registry
from genbench.options.overrides import typed_overrides

REGISTRY = Registry.discover()
BUILTIN = [e for e in REGISTRY.entries() if e.kind == "model" and e.distribution == "genbench"]
# field -> values no model may take for it.
BAD = {
    "batch_size": [0, -1],
    "latent_dim": [0],
    "base_channels": [0],
    "width": [0],
    "label_dim": [0],
    "lr": [0.0, -1.0, float("nan"), float("inf")],
    "beta1": [-0.1, 1.0, float("nan")],
    "beta2": [1.0],
    "n_critic": [0],
    "d_steps": [0],
    "clip": [0.0, float("inf")],
    "gp_weight": [-1.0, float("nan")],
    "dropout": [1.0, -0.5],
    "d_dropout": [1.0],
    "a": [float("nan")],
    "res_blocks": [0],
    "timesteps": [0],
    "sample_steps": [0],
    "grad_clip": [0.0, float("nan")],
    "ema_decay": [1.0, -0.1],
    "label_dropout": [1.0, -0.1],
    "beta_start": [0.0, 1.0],
    "beta_end": [1.5],
    "guidance_scale": [-1.0, float("inf")],
}


def test_there_are_built_in_models() -> None:
    names = {"dcgan", "vae", "wgan", "wgan-gp", "gan", "cgan", "acgan", "lsgan", "ddpm", "flow-matching"}
    assert names | {"ddpm-cond", "flow-matching-cond"} <= {e.name for e in BUILTIN}


@pytest.mark.parametrize("entry", BUILTIN, ids=[e.name for e in BUILTIN])
def test_defaults_pass_and_bad_values_name_the_model_and_field(entry: object) -> None:
    cls = entry.cls  # type: ignore[attr-defined]
    fields = {f.name for f in dataclasses.fields(cls.Hparams)}
    cls.Hparams()  # The defaults are valid.
    checked = [name for name in BAD if name in fields]
    assert "batch_size" in checked and "lr" in checked
    for name in checked:
        for value in BAD[name]:
            with pytest.raises(UserError, match=rf"^{cls.name}\.{name} must be "):
                cls.resolve_hparams(**typed_overrides(cls, {name: value}))
    # Sampling options (--sample-set) follow the same rules, with the same messages.
    for name in (name for name in BAD if name in {f.name for f in dataclasses.fields(cls.Sampling)}):
        for value in BAD[name]:
            with pytest.raises(UserError, match=rf"^{cls.name}\.{name} must be "):
                cls.resolve_sampling(**typed_overrides(cls, {name: value}, cls.Sampling))


@pytest.mark.parametrize("entry", BUILTIN, ids=[e.name for e in BUILTIN])
def test_every_numeric_hyperparameter_has_a_rule(entry: object) -> None:
    """A new number in a built-in Hparams cannot go unchecked: its name needs a rule in FIELD_RULES."""
    from genbench_builtin.models.hparam_rules import FIELD_RULES

    defaults = entry.cls.Hparams()  # type: ignore[attr-defined]
    values = {f.name: getattr(defaults, f.name) for f in dataclasses.fields(defaults)}
    numbers = [name for name, value in values.items() if type(value) in (int, float)]
    assert numbers and [name for name in numbers if name not in FIELD_RULES] == []


@pytest.mark.parametrize(
    "setting", ["dcgan.batch_size=0", "dcgan.batch_size=-1", "dcgan.lr=nan", "dcgan.lr=-1", "dcgan.lr=inf"]
)
def test_a_bad_set_is_one_line_exit_2_and_nothing_written(setting: str, tmp_path: Path) -> None:
    out = tmp_path / "results"
    args = ["run", "--models", "dcgan", "--kimg", "0.5", "--out", str(out), "--quiet", "--set", setting]
    result = CliRunner().invoke(app, args)
    field = setting.split("=")[0]
    assert result.exit_code == 2, result.output
    assert result.output.startswith(f"error: {field} must be ") and result.output.count("\n") == 1
    assert not out.exists()
