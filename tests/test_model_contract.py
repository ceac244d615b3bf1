"""Every registered model passes the contract (genbench.testing) at every built-in shape, and the
contract catches the faults that break benchmarks, in messages that name the culprit and the fix."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import fakes
import pytest
import torch

import genbench.contract
import genbench.testing
from genbench import Hyperparameters
from genbench.api import DataShape, Model
from genbench.blocks import EMA, UNet, eval_mode
from genbench.core.registry import Registry
from genbench.testing import (
    MODEL_CHECKS,
    SHAPES,
    ContractError,
    check_builds_on_the_current_device,
    check_dataset,
    check_ema_sampling,
    check_guidance,
    check_latents,
    check_model,
    check_resume,
    check_sampling,
    check_time_input,
    check_training_steps,
    model_contract_tests,
)

MODELS = [entry.cls for entry in Registry.discover(autoload=True).entries() if entry.kind == "model"]
BY_NAME = {model.name: model for model in MODELS}
SHAPE = SHAPES[0]

pytestmark = pytest.mark.usefixtures("one_thread")  # See conftest.one_thread.


def test_every_builtin_model_is_under_contract() -> None:
    assert {"dcgan", "vae", "wgan"} <= {m.name for m in MODELS}


@pytest.mark.parametrize("check", MODEL_CHECKS, ids=[c.__name__.removeprefix("check_") for c in MODEL_CHECKS])
@pytest.mark.parametrize("shape", SHAPES, ids=[f"{s.channels}x{s.resolution}" for s in SHAPES])
@pytest.mark.parametrize("model_cls", MODELS, ids=[m.name for m in MODELS])
def test_model_contract(model_cls: type[Model], shape: DataShape, check: object) -> None:
    check(model_cls, shape)  # type: ignore[operator]


class _Faulty(fakes.PixelGaussian):
    """The fake per-pixel Gaussian, which keeps the contract; subclasses each break one rule."""

    name = "faulty"


class _FloatLogs(_Faulty):
    def train_step(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"loss_d": super().train_step(images, labels)["loss"].item()}  # type: ignore[dict-item]


class _NoTanh(_Faulty):
    def sample(self, n: int, generator: torch.Generator, labels: torch.Tensor | None = None) -> torch.Tensor:
        return super().sample(n, generator, labels) * 2  # A decoder scaled by 2.


class _UnusedLayer(_Faulty):
    """A generator layer that no loss reaches."""

    def __init__(self, shape: DataShape, hparams: Hyperparameters) -> None:
        super().__init__(shape, hparams)
        self.generator = torch.nn.Module()
        self.generator.net = torch.nn.Sequential(*(torch.nn.Linear(2, 2) for _ in range(4)))
        self.optimizers["adam"] = torch.optim.Adam(self.parameters(), lr=0.05)


class _StaleEMA(_Faulty):
    """Trains a network and keeps an EMA of it (genbench.blocks.EMA), but never updates the average."""

    def __init__(self, shape: DataShape, hparams: Hyperparameters) -> None:
        super().__init__(shape, hparams)
        self.net = torch.nn.Linear(1, 1)
        self.ema = EMA(self.net)
        trained = [p for p in self.parameters() if p.requires_grad]
        self.optimizers["adam"] = torch.optim.Adam(trained, lr=0.05)

    def _nll(self, images: torch.Tensor) -> torch.Tensor:
        return super()._nll(images) + self.net(images.new_ones(1, 1)).square().sum()


class _UpdatedEMA(_StaleEMA):
    def train_step(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        logs = super().train_step(images, labels)
        self.ema.update()
        return logs


class _FixedDevice(_Faulty):
    def __init__(self, shape: DataShape, hparams: Hyperparameters) -> None:
        super().__init__(shape, hparams)
        self.register_buffer("scale", torch.ones(1, device="cpu"))


class _OwnNoise(_Faulty):
    """Draws training noise from a private generator, which no checkpoint restores."""

    def __init__(self, shape: DataShape, hparams: Hyperparameters) -> None:
        super().__init__(shape, hparams)
        self.noise = torch.Generator().manual_seed(1234)

    def train_step(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        jitter = torch.randn(images.shape, generator=self.noise) * 0.1
        return super().train_step(images + jitter, labels)


@pytest.mark.parametrize(
    ("model_cls", "check", "message"),
    [
        # Issue 13: "'loss_d' is not a scalar tensor", without what it got or what to do.
        (
            _FloatLogs,
            check_training_steps,
            "model 'faulty' at (1, 8, 8): train_step logs: train_step returned 'loss_d' as a Python float "
            "(*), not a tensor; return loss.detach(), not loss.item(): reading a number waits for the "
            "device every step",
        ),
        # Issue 13: samples out of [-1, 1] passed (the contract checked the clamped range loosely).
        (
            _NoTanh,
            check_sampling,
            "model 'faulty' at (1, 8, 8): sample range: *% of the values of sample "
            "lie outside [-1, 1] (min *, max *); end the generator with tanh (or clamp its output): *",
        ),
        # Issue 13: a generator parameter that never trains passed (checked per network).
        (
            _UnusedLayer,
            check_training_steps,
            "model 'faulty' at (1, 8, 8): training: after 12 steps these "
            "parameters never changed: generator.net.0.weight (gradient always None: no loss uses it), "
            "generator.net.0.bias (gradient always None: no loss uses it), * and 2 more; use every "
            "parameter in a loss and give it to an optimizer in self.optimizers; *untrained_parameters",
        ),
        # Issue 21: an EMA that never updates was told to join an optimizer.
        (
            _StaleEMA,
            check_training_steps,
            "model 'faulty' at (1, 8, 8): EMA: after 12 steps the exponential moving average ema never "
            "changed: ema.network.weight, ema.network.bias; call self.ema.update() after each optimizer "
            "step in train_step (an EMA's weights have no gradient and belong in no optimizer: *)",
        ),
        # Issue 13: a hard-coded device was reported without naming the tensor.
        (
            _FixedDevice,
            check_builds_on_the_current_device,
            "model 'faulty' at (1, 8, 8): device: created on "
            "a fixed device: scale (on cpu); create tensors without device= *",
        ),
        (
            _OwnNoise,
            check_resume,
            "model 'faulty' at (1, 8, 8): resume: after a restore, two more steps "
            "trained mean, log_std differently; draw training noise from torch's global generator *",
        ),
    ],
    ids=["float-logs", "out-of-range", "parameter-never-trains", "stale-ema", "fixed-device", "own-noise"],
)
def test_the_contract_names_the_rule_the_culprit_and_the_fix(
    model_cls: type[Model], check: object, message: str
) -> None:
    with pytest.raises(ContractError) as error:
        check(model_cls, SHAPE)  # type: ignore[operator]
    pattern = ".*".join(map(re.escape, message.split("*")))
    assert re.fullmatch(pattern, str(error.value)), str(error.value)
    fakes_pass = check(_Faulty, SHAPE)  # type: ignore[operator]
    assert fakes_pass is None


def test_an_updated_ema_trains() -> None:
    check_training_steps(_UpdatedEMA, SHAPE)


def test_out_of_range_reports_the_fraction() -> None:
    with pytest.raises(ContractError) as error:
        check_sampling(_NoTanh, SHAPE)
    fraction = float(re.search(r"(\d+\.\d)% of the values", str(error.value)).group(1)) / 100
    model = genbench.testing.inputs.build(_NoTanh, SHAPE)  # As check_sampling draws them.
    genbench.testing.inputs.train_on_batch(model, 0)
    samples = model.sample(16, torch.Generator().manual_seed(0))
    assert fraction == pytest.approx(float((samples.abs() > 1).float().mean()), abs=0.001)
    assert fraction > 0.1


class _Unfaithful(_Faulty):
    """A model whose latent API does not draw what ``sample`` draws, and decodes out of range."""

    def latents(self, n: int, generator: torch.Generator) -> torch.Tensor:
        return torch.randn(n, 2, generator=generator)

    def decode(self, latents: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return torch.full((len(latents), *self.shape.image_shape), 0.5)


class _DecodesOutOfRange(_Unfaithful):
    def decode(self, latents: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return torch.full((len(latents), *self.shape.image_shape), 1.5)


def test_the_contract_catches_latents_that_do_not_decode_to_the_samples() -> None:
    with pytest.raises(ContractError, match=r"decode\(latents\(n, g\), labels\) is not sample"):
        check_latents(_Unfaithful, SHAPE)
    with pytest.raises(ContractError, match=r"decode range: 100\.0% of the values of decode lie outside"):
        check_latents(_DecodesOutOfRange, SHAPE)


def test_check_model_runs_every_check() -> None:
    check_model(fakes.PixelGaussian, [SHAPE])
    with pytest.raises(ContractError, match="Python float"):
        check_model(_FloatLogs, [SHAPE])


class _TupleData(fakes.Bars):
    name = "tuples"

    def load(self, split: str) -> tuple[torch.Tensor, torch.Tensor]:  # type: ignore[override]
        loaded = super().load(split)
        return loaded.images, loaded.labels


class _UnitFloats(fakes.Bars):
    name = "unit-floats"

    def load(self, split: str) -> object:
        loaded = super().load(split)
        return type(loaded)((loaded.images > 127).to(torch.uint8), loaded.labels)


def test_check_dataset(tmp_path: Path) -> None:
    check_dataset(fakes.Bars, tmp_path)
    with pytest.raises(ContractError) as error:
        check_dataset(_TupleData, tmp_path)
    assert str(error.value) == (
        "split: dataset 'tuples', train split: load returned a tuple, not a genbench.Split; "
        "return Split(images, labels)"
    )
    with pytest.raises(ContractError, match=r"the train split's largest value is 1; uint8 images span"):
        check_dataset(_UnitFloats, tmp_path)


def test_a_plugin_test_file_needs_two_lines(tmp_path: Path) -> None:
    """The pytest helpers as a plugin's own test file uses them: each check and shape is a test."""
    (tmp_path / "test_my_plugin.py").write_text(
        textwrap.dedent(
            """
            from fakes import Bars, PixelGaussian
            from genbench.testing import dataset_contract_tests, model_contract_tests

            class NoTanh(PixelGaussian):
                def sample(self, n, generator, labels=None):
                    return super().sample(n, generator, labels) * 2

            test_model = model_contract_tests(PixelGaussian, shapes=[Bars.shape])
            test_data = dataset_contract_tests(Bars)
            test_broken = model_contract_tests(NoTanh, shapes=[Bars.shape])
            """
        )
    )
    path = [str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-o",
            "addopts=",
            "test_my_plugin.py",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, path)), "OMP_NUM_THREADS": "1"},
    )
    summary = result.stdout.strip().splitlines()[-1]
    assert "1 failed, 28 passed" in summary, result.stdout
    assert "test_broken[1x8x8-sampling]" in result.stdout and "sample range" in result.stdout


def test_genbench_testing_imports_without_pytest() -> None:
    code = "import sys; sys.modules['pytest'] = None; import genbench.testing; print('ok')"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "ok", result.stderr


class _LooseTensor(_Faulty):
    def __init__(self, shape: DataShape, hparams: Hyperparameters) -> None:
        super().__init__(shape, hparams)
        self.offset = torch.zeros(1)  # Not a buffer: .to(device) leaves it behind.


class _LegacySpectralNorm(_Faulty):
    def __init__(self, shape: DataShape, hparams: Hyperparameters) -> None:
        super().__init__(shape, hparams)
        self.critic = torch.nn.utils.spectral_norm(torch.nn.Linear(4, 1))  # Recomputes .weight per call.


def test_plain_tensor_attributes_are_named_unless_a_hook_recomputes_them() -> None:
    with pytest.raises(ContractError, match=r"device: plain tensor attributes offset do not move with"):
        check_builds_on_the_current_device(_LooseTensor, SHAPE)
    check_builds_on_the_current_device(_LegacySpectralNorm, SHAPE)


class _BrokenWhenAsked(_Faulty):
    """Keeps the contract under its defaults; returns a Python float with ``broken=true``."""

    @dataclass
    class Hparams(Hyperparameters):
        batch_size: int = 32
        lr: float = 0.05
        broken: bool = False

    def train_step(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        logs = super().train_step(images, labels)
        return {"loss": logs["loss"].item()} if self.hparams.broken else logs  # type: ignore[dict-item]


def test_the_contract_checks_a_model_under_the_hyperparameters_given_as_set_gives_them() -> None:
    check_model(_BrokenWhenAsked, SHAPES[:1])
    says = r"^model 'faulty' \(broken=True\) at \(1, 8, 8\): train_step logs: .* as a Python float"
    with pytest.raises(ContractError, match=says):
        check_model(_BrokenWhenAsked, SHAPES[:1], hparams={"broken": "yes"})  # Converted as --set does.
    test = model_contract_tests(_BrokenWhenAsked, shapes=SHAPES[:1], hparams={"broken": True})
    with pytest.raises(ContractError, match=says):
        test(shape=SHAPE, check=check_training_steps)
    test(shape=SHAPE, check=check_sampling)  # The other checks run under the same overrides.


@pytest.mark.parametrize(
    ("name", "hparams", "sampling"),
    [
        ("dcgan", {"latent_dim": "16", "base_channels": 8, "beta1": 0.9}, {}),
        ("ddpm", {"timesteps": 20, "base_channels": 8}, {"sample_steps": 2, "sampler": "ancestral"}),
        ("ddpm", {"conditional": True, "base_channels": 8}, {"guidance_scale": "3", "sample_steps": 2}),
        ("flow-matching", {"base_channels": 8}, {"sample_steps": 3, "integrator": "midpoint"}),
    ],
    ids=["dcgan", "ddpm-ancestral-20", "ddpm-guided", "flow-matching-3-steps"],
)
def test_builtin_models_keep_the_contract_under_other_hyperparameters(
    name: str, hparams: dict, sampling: dict
) -> None:
    check_model(BY_NAME[name], SHAPES[:1], hparams=hparams, sampling=sampling)


def test_the_contract_refuses_sampling_options_as_sample_set_would() -> None:
    says = "sampling sample_steps=0, refused as --sample-set would refuse them: ddpm.sample_steps must be"
    with pytest.raises(ContractError, match=says):
        check_model(BY_NAME["ddpm"], SHAPES[:1], sampling={"sample_steps": 0})
    with pytest.raises(ContractError, match=r"ddpm\.sample_steps is a sampling option, not a hyperparameter"):
        check_model(BY_NAME["ddpm"], SHAPES[:1], hparams={"sample_steps": 2})


@pytest.mark.parametrize(
    ("hparams", "says"),
    [
        ({"no_such": 1}, "hparams no_such=1, refused as --set would refuse them: model 'dcgan' has no "
         "hyperparameter no_such; it has: *"),
        ({"lr": "fast"}, "hparams lr='fast', refused *: dcgan.lr takes a float (default 0.0002), got 'fast'"),
        ({"lr": -1}, "hparams lr=-1, refused *: dcgan.lr must be a finite positive number, got -1.0"),
        ({"lr": "nan"}, "hparams lr='nan', refused *: dcgan.lr *nan"),
    ],
    ids=["unknown-name", "wrong-type", "refused-by-the-model", "nan"],
)
def test_overrides_the_model_refuses_fail_at_once_with_set_s_message(hparams: dict, says: str) -> None:
    pattern = ".*".join(map(re.escape, f"model 'dcgan': {says}".split("*")))
    for make in (model_contract_tests, check_model):
        with pytest.raises(ContractError) as error:
            make(BY_NAME["dcgan"], SHAPES[:1], hparams=hparams)
        assert re.fullmatch(pattern, str(error.value)), str(error.value)


class _TinyFlow(Model):
    """A tiny flow-matching model on genbench.blocks (a UNet and its EMA, three Euler steps, guided when
    conditional) that keeps the diffusion checks; subclasses each break one."""

    name = "tiny-flow"
    conditional = False
    network_cls = UNet

    @dataclass
    class Hparams(Hyperparameters):
        batch_size: int = 8
        lr: float = 1e-3

    def __init__(self, shape: DataShape, hparams: Hyperparameters) -> None:
        super().__init__(shape, hparams)
        classes = shape.num_classes if self.conditional else 0
        self.net = self.network_cls(shape.channels, shape.resolution, 8, num_classes=classes, attention=False)
        self.ema = EMA(self.net)
        self.optimizers["adam"] = torch.optim.Adam(self.net.parameters(), lr=1e-3)

    def train_step(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        t, noise = torch.rand(len(images)).view(-1, 1, 1, 1), torch.randn_like(images)
        labels = self.net.labels.drop(labels, 0.2) if self.conditional else None
        predicted = self.net((1 - t) * noise + t * images, self.time(t.flatten()), labels)
        loss = (predicted - (images - noise)).square().mean()
        self.optimizers["adam"].zero_grad()
        loss.backward()
        self.optimizers["adam"].step()
        self.ema.update()
        return {"loss": loss.detach()}

    def time(self, t: torch.Tensor) -> torch.Tensor:
        return t * 1000  # The scale of the UNet's time embedding.

    def sampling_network(self) -> UNet:
        return self.ema.network

    def unconditional_labels(self, labels: torch.Tensor) -> torch.Tensor:
        return torch.full_like(labels, self.sampling_network().null_label)

    def velocity(self, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        net = self.sampling_network()
        if labels is None:
            return net(x, t)
        both = net(
            torch.cat([x, x]), torch.cat([t, t]), torch.cat([labels, self.unconditional_labels(labels)])
        )
        conditional, unconditional = both.chunk(2)
        return unconditional + 2.0 * (conditional - unconditional)  # Guidance scale 2.

    def sample(self, n: int, generator: torch.Generator, labels: torch.Tensor | None = None) -> torch.Tensor:
        x = torch.randn((n, *self.shape.image_shape), generator=generator)
        if self.conditional and labels is None:
            labels = torch.randint(self.shape.num_classes, (n,), generator=generator)
        with torch.no_grad(), eval_mode(self):
            for k in range(3):
                x = x + self.velocity(x, self.time(torch.full((n,), k / 3)), labels) / 3
        return x.clamp(-1, 1)


class _TinyFlowCond(_TinyFlow):
    conditional = True


class _RawSampler(_TinyFlow):
    def sampling_network(self) -> UNet:
        return self.net  # The trained weights, not their average.


class _TimeBlindUNet(UNet):
    def forward(self, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return super().forward(x, torch.zeros_like(t), labels)


class _TimeBlind(_TinyFlow):
    network_cls = _TimeBlindUNet


class _ConstantTime(_TinyFlow):
    def time(self, t: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(t)  # Forgot to scale by the step: always t = 0.


class _LeakyGuidance(_TinyFlowCond):
    def unconditional_labels(self, labels: torch.Tensor) -> torch.Tensor:
        return labels  # The unconditional branch sees the labels.


@pytest.mark.parametrize(
    ("model_cls", "check", "message"),
    [
        (
            _RawSampler,
            check_ema_sampling,
            "model 'tiny-flow' at (1, 8, 8): EMA sampling: the samples changed when only the trained "
            "weights averaged by ema changed: sample uses the trained network, not its exponential moving "
            "average; sample (and decode) with self.ema.network, the average; *",
        ),
        (
            _TimeBlind,
            check_time_input,
            "model 'tiny-flow' at (1, 8, 8): time input: ema.network gave the same output at t=0 (x2) and "
            "at t=333.333 (x2): the network ignores its time input; condition ema.network on t *",
        ),
        (
            _ConstantTime,
            check_time_input,
            "model 'tiny-flow' at (1, 8, 8): time input: sample called ema.network 3 times, every time at "
            "t=0 (x2); give ema.network each sampling step's own t",
        ),
        (
            _LeakyGuidance,
            check_guidance,
            "model 'tiny-flow' at (1, 8, 8): guidance: at the first sampling step ema.network evaluated 4 "
            "rows for 2 images (a conditional and an unconditional branch), and every row's prediction "
            "changed with the labels: the unconditional branch sees them; give the unconditional branch "
            "the null class, never the labels *",
        ),
    ],
    ids=["raw-weights-sample", "network-ignores-time", "model-gives-one-time", "guidance-sees-labels"],
)
def test_the_contract_catches_diffusion_faults(model_cls: type[Model], check: object, message: str) -> None:
    with pytest.raises(ContractError) as error:
        check(model_cls, SHAPE)  # type: ignore[operator]
    pattern = ".*".join(map(re.escape, message.split("*")))
    assert re.fullmatch(pattern, str(error.value)), str(error.value)
    for model in (_TinyFlow, _TinyFlowCond):
        check(model, SHAPE)  # type: ignore[operator]


class _LeakyDDPMCond(BY_NAME["ddpm-cond"]):  # type: ignore[misc, valid-type]
    """The built-in guided model with the unconditional branch given the labels (its guidance scale
    fixed here, wherever the model keeps its own)."""

    def guided(self, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        net = self.ema.network
        conditional, unconditional = net(
            torch.cat([x, x]), torch.cat([t, t]), torch.cat([labels, labels])
        ).chunk(2)
        return unconditional + 1.5 * (conditional - unconditional)


def test_the_guidance_check_applies_to_the_builtin_guided_models() -> None:
    """Not skipped: the check sees ddpm-cond's two branches (and catches them seeing labels)."""
    with pytest.raises(ContractError, match="every row's prediction changed with the labels"):
        check_guidance(_LeakyDDPMCond, SHAPE)
