"""Every registered model passes the model contract (genbench.contract) at every built-in shape."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from genbench.api import DataShape, Model
from genbench.contract import CHECKS, SHAPES, check_latents
from genbench.plugins import Registry

MODELS = [entry.cls for entry in Registry.discover(autoload=True).entries() if entry.kind == "model"]


pytestmark = pytest.mark.usefixtures("one_thread")  # See conftest.one_thread.


def test_every_builtin_model_is_under_contract() -> None:
    assert {"dcgan", "vae"} <= {m.name for m in MODELS}


@pytest.mark.parametrize("check", CHECKS, ids=[c.__name__.removeprefix("check_") for c in CHECKS])
@pytest.mark.parametrize("shape", SHAPES, ids=[f"{s.channels}x{s.resolution}" for s in SHAPES])
@pytest.mark.parametrize("model_cls", MODELS, ids=[m.name for m in MODELS])
def test_model_contract(
    model_cls: type[Model], shape: DataShape, check: Callable[[type[Model], DataShape], None]
) -> None:
    check(model_cls, shape)


class _Broken(Model):
    """A model that breaks the contract in the ways the checks look for."""

    name = "broken"

    def __init__(self, shape: DataShape, hparams: Model.Hparams) -> None:
        super().__init__(shape, hparams)
        self.weight = torch.nn.Parameter(torch.zeros(shape.image_shape, device="cpu"))
        self.frozen = torch.nn.Parameter(torch.zeros(1))
        self.optimizers["sgd"] = torch.optim.SGD([self.weight], lr=0.1)

    def train_step(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        loss = ((images - self.weight) ** 2).mean()
        self.optimizers["sgd"].zero_grad()
        loss.backward()
        self.optimizers["sgd"].step()
        return {"loss": loss}  # Not detached.

    def sample(self, n: int, generator: torch.Generator, labels: torch.Tensor | None = None) -> torch.Tensor:
        return (self.weight * 2).expand(n, -1, -1, -1)  # Ignores the generator; may leave [-1, 1].


@pytest.mark.parametrize(
    ("check", "message"),
    [
        ("check_builds_on_the_current_device", "not created on the current device"),
        ("check_training_steps", "'loss' is not detached"),
        ("check_sampling", "samples require grad"),
    ],
)
def test_the_contract_catches_a_broken_model(check: str, message: str) -> None:
    import genbench.contract

    with pytest.raises(AssertionError, match=message):
        getattr(genbench.contract, check)(_Broken, SHAPES[0])


class _Unfaithful(_Broken):
    """A model whose latent API does not draw what ``sample`` draws."""

    def latents(self, n: int, generator: torch.Generator) -> torch.Tensor:
        return torch.randn(n, 2, generator=generator)

    def decode(self, latents: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return torch.full((len(latents), *self.shape.image_shape), 0.5)


def test_the_contract_catches_latents_that_do_not_decode_to_the_samples() -> None:
    with pytest.raises(AssertionError, match=r"decode\(latents\(n, g\), labels\) is not sample"):
        check_latents(_Unfaithful, SHAPES[0])
