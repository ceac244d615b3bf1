"""hinge-gan under genbench's model contract, at every built-in shape and at the shapes dataset's."""

from __future__ import annotations

import pytest
import torch
from genbench_example import HingeGAN, Shapes
from genbench_example.hinge_gan import hinge_discriminator_loss

from genbench import UserError
from genbench.testing import SHAPES, model_contract_tests

# genbench's contract (genbench.testing) at every built-in shape and at the shapes dataset's.
test_contract = model_contract_tests(HingeGAN, shapes=(*SHAPES, Shapes.shape))


def test_every_discriminator_convolution_is_spectrally_normalised() -> None:
    model = HingeGAN.build(Shapes.shape)
    convs = [m for m in model.discriminator.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs and all(torch.nn.utils.parametrize.is_parametrized(m, "weight") for m in convs)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.discriminator.modules())
    # After a few power iterations the largest singular value of each normalised weight is about 1.
    model.train()
    images = torch.rand(8, *Shapes.shape.image_shape) * 2 - 1
    for _ in range(20):
        model.discriminator(images)
    for conv in convs:
        sigma = torch.linalg.matrix_norm(conv.weight.detach().flatten(1), ord=2)
        assert sigma == pytest.approx(1.0, abs=0.05)


def test_hinge_loss_is_zero_beyond_the_margins_and_linear_inside() -> None:
    assert hinge_discriminator_loss(torch.tensor([1.5, 2.0]), torch.tensor([-1.0, -3.0])) == 0
    # real 0 -> 1 - 0 = 1; fake 0.5 -> 1 + 0.5 = 1.5.
    assert hinge_discriminator_loss(torch.tensor([0.0]), torch.tensor([0.5])) == pytest.approx(2.5)


def test_generator_updates_every_n_dis_steps() -> None:
    torch.manual_seed(0)
    model = HingeGAN.build(Shapes.shape, n_dis=2, base_channels=8)
    images = torch.rand(4, *Shapes.shape.image_shape) * 2 - 1
    labels = torch.zeros(4, dtype=torch.int64)
    assert ["loss_g" in model.train_step(images, labels) for _ in range(4)] == [False, True, False, True]


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"n_dis": 0}, "n_dis"),
        ({"lr": 0.0}, "lr"),
        ({"beta1": 1.0}, "beta1"),
        ({"latent_dim": 0}, "latent_dim"),
    ],
)
def test_bad_hyperparameters_are_user_errors_naming_them(overrides: dict[str, float], named: str) -> None:
    with pytest.raises(UserError, match=f"hinge-gan.{named}"):
        HingeGAN.resolve_hparams(**overrides)
