"""Hyperparameter overrides: parsed, converted to each default's type, refused clearly when wrong."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import fakes
import pytest
from typer.testing import CliRunner

from genbench.cli import app
from genbench.errors import UserError
from genbench.options.overrides import convert, parse_set_options, typed_overrides


def test_set_options_are_grouped_by_model() -> None:
    parsed = parse_set_options(["dcgan.lr=1e-4", "dcgan.batch_size = 32", "vae.recon=mse"])
    assert parsed == {"dcgan": {"lr": "1e-4", "batch_size": "32"}, "vae": {"recon": "mse"}}
    for bad in ("dcgan.lr", "lr=1", ".lr=1", "dcgan.=1"):
        with pytest.raises(UserError, match=r"--set takes MODEL\.KEY=VALUE"):
            parse_set_options([bad])


def test_values_take_the_type_of_the_default() -> None:
    typed = typed_overrides(fakes.PixelGaussian, {"lr": "1e-3", "batch_size": "16"})
    assert typed == {"lr": 0.001, "batch_size": 16}
    hparams = fakes.PixelGaussian.resolve_hparams(**typed)
    assert hparams.lr == 0.001 and hparams.batch_size == 16
    assert convert("m", "flag", "yes", False) is True and convert("m", "flag", "0", True) is False
    assert convert("m", "n", 3.0, 1) == 3 and convert("m", "name", "mse", "bce") == "mse"
    for value, default in (("abc", 1.0), ("2.5", 1), ("maybe", True), (3, "bce"), (True, 1)):
        with pytest.raises(UserError, match=r"m\.k takes a"):
            convert("m", "k", value, default)


def test_unknown_hyperparameters_are_refused_by_name() -> None:
    with pytest.raises(UserError, match="model 'pixel-gaussian' has no hyperparameter n_critic"):
        fakes.PixelGaussian.resolve_hparams(**typed_overrides(fakes.PixelGaussian, {"n_critic": "5"}))


def test_cli_records_overridden_values(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GENBENCH_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("GENBENCH_PLUGINS", "fakes")
    args = [
        "run",
        "--models",
        "pixel-gaussian",
        "--data",
        "bars",
        "--kimg",
        "1",
        "--n-samples",
        "200",
        "--quiet",
    ]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path), "--set", "pixel-gaussian.lr=0.01"])
    assert result.exit_code == 0, result.output
    (config,) = tmp_path.glob("runs/*/config.json")
    assert json.loads(config.read_text())["hparams"] == {"batch_size": 32, "lr": 0.01}

    for bad, message in (
        ("pixel-gaussian.lr=fast", "error: pixel-gaussian.lr takes a float (default 0.05), got 'fast'"),
        ("pixel-gaussian.nope=1", "error: model 'pixel-gaussian' has no hyperparameter nope"),
        ("dcgan.lr=1", "error: hyperparameters are set for 'dcgan', which is not among the models"),
    ):
        result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "x"), "--set", bad])
        assert result.exit_code == 2 and result.stderr.startswith(message), result.stderr
        assert not (tmp_path / "x").exists()


def test_the_message_says_an_int() -> None:
    with pytest.raises(UserError, match=r"^m\.k takes an int \(default 1\), got 'abc'$"):
        convert("m", "k", "abc", 1)
    with pytest.raises(UserError, match=r"^m\.k takes a float "):
        convert("m", "k", "abc", 1.0)


def test_a_plugins_own_value_error_is_one_line_naming_the_plugin() -> None:
    @dataclasses.dataclass
    class Hparams(fakes.PixelGaussian.Hparams):
        def __post_init__(self) -> None:
            if self.lr > 1:
                raise ValueError("lr must be at most 1")

    cls = type("Picky", (fakes.PixelGaussian,), {"name": "picky", "Hparams": Hparams})
    refused = r"^model 'picky' \(.*\) refuses lr=2\.0: ValueError: lr must be at most 1$"
    with pytest.raises(UserError, match=refused):
        cls.resolve_hparams(**typed_overrides(cls, {"lr": "2"}))
