"""genbench.blocks is the public home of the building blocks the built-in models use: documented, and
imported by the plugins."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest
import torch

import genbench.blocks
from genbench import DataShape, UserError
from genbench.blocks import (
    EMA,
    DownLadder,
    FeatureHead,
    LabelEmbedding,
    LatentStem,
    TimeEmbedding,
    UNet,
    UpLadder,
    eval_mode,
    ladder_plan,
    sinusoidal_embedding,
)

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", genbench.blocks.__all__)
def test_every_public_block_is_documented(name: str) -> None:
    obj = getattr(genbench.blocks, name)
    if inspect.isclass(obj) or inspect.isfunction(obj):
        assert (obj.__doc__ or "").strip(), f"genbench.blocks.{name} has no docstring"
    else:  # Constants and type aliases: the package's docstring says what they are.
        assert f"``{name}``" in (genbench.blocks.__doc__ or "")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {
        alias.name if isinstance(node, ast.Import) else node.module or ""
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (node.names if isinstance(node, ast.Import) else [None])  # type: ignore[list-item]
    }


def test_the_builtins_use_the_public_blocks() -> None:
    # The core never importing a plugin is tests/test_architecture.py's.
    builtin = set().union(*(_imports(p) for p in (ROOT / "plugins" / "genbench_builtin").rglob("*.py")))
    assert {"genbench.blocks.conv_ladder", "genbench.blocks.latent", "genbench.blocks.modes"} <= builtin


@pytest.mark.parametrize(("resolution", "stages", "base"), [(8, 1, 4), (16, 2, 4), (28, 2, 7), (32, 3, 4)])
def test_a_ladder_round_trips_every_supported_resolution(resolution: int, stages: int, base: int) -> None:
    plan = ladder_plan(resolution, base_channels=4)
    assert (plan.stages, plan.base) == (stages, base)
    shape = DataShape(3, resolution, 10)
    features = DownLadder(shape.channels, plan, torch.nn.BatchNorm2d)(torch.zeros(2, *shape.image_shape))
    assert FeatureHead(plan, 5)(features).shape == (2, 5)
    images = UpLadder(shape.channels, plan, None)(LatentStem(7, plan, None)(torch.zeros(2, 7)))
    assert images.shape == (2, *shape.image_shape)


def test_eval_mode_restores_each_submodule_mode() -> None:
    net = torch.nn.Sequential(torch.nn.BatchNorm1d(2), torch.nn.Dropout())
    net[1].eval()  # A part frozen in eval mode stays so.
    with eval_mode(net):
        assert not any(m.training for m in net.modules())
    assert [m.training for m in net.modules()] == [True, True, False]


def test_ema_averages_with_the_warm_up_ramp_and_is_saved() -> None:
    net = torch.nn.Linear(2, 2)
    ema = EMA(net, decay=0.9)
    start = ema.network.weight.clone()
    with torch.no_grad():
        net.weight.add_(1.0)
    ema.update()  # Update 0 decays by min(0.9, 1/10) = 0.1: the average moves 90% of the way.
    torch.testing.assert_close(ema.network.weight, 0.1 * start + 0.9 * net.weight)
    assert float(ema.current_decay()) == pytest.approx(2 / 11)
    for _ in range(100):
        ema.update()
    assert float(ema.current_decay()) == pytest.approx(0.9)  # The ramp ends at the decay.
    assert not any(p.requires_grad for p in ema.network.parameters())
    assert "num_updates" in ema.state_dict() and "network.weight" in ema.state_dict()
    assert "ema.network.weight" in torch.nn.ModuleDict({"ema": ema, "net": net}).state_dict()
    restored = EMA(torch.nn.Linear(2, 2), decay=0.9)
    restored.load_state_dict(ema.state_dict())
    assert int(restored.num_updates) == 101 and torch.equal(restored.network.weight, ema.network.weight)


def test_ema_without_warm_up_uses_the_constant_decay() -> None:
    net = torch.nn.Linear(2, 2)
    ema = EMA(net, decay=0.5, warmup=False)
    start = ema.network.weight.clone()
    with torch.no_grad():
        net.weight.add_(2.0)
    ema.update()
    torch.testing.assert_close(ema.network.weight, 0.5 * start + 0.5 * net.weight)
    with pytest.raises(ValueError, match="decay"):
        EMA(net, decay=1.0)


def test_time_embedding_is_sinusoidal_then_an_mlp() -> None:
    t = torch.tensor([0, 1, 999])
    waves = sinusoidal_embedding(t, 8)
    assert waves.shape == (3, 8)
    torch.testing.assert_close(waves[0], torch.tensor([0.0] * 4 + [1.0] * 4))  # sin 0, cos 0.
    torch.testing.assert_close(waves[1, 0], torch.sin(torch.tensor(1.0)))  # The highest frequency is 1.
    assert sinusoidal_embedding(t, 7).shape == (3, 7)
    embedding = TimeEmbedding(8)
    assert embedding(t).shape == (3, 32) and embedding(t.float() / 1000).shape == (3, 32)


@pytest.mark.parametrize(("resolution", "channels"), [(8, 1), (16, 3), (28, 1), (32, 3)])
@pytest.mark.parametrize("num_classes", [0, 10])
def test_the_unet_keeps_the_shape_at_each_size(resolution: int, channels: int, num_classes: int) -> None:
    torch.manual_seed(0)
    net = UNet(channels, resolution, base_channels=8, num_classes=num_classes)
    x, t = torch.randn(2, channels, resolution, resolution), torch.tensor([3, 700])
    labels = torch.tensor([1, 2]) if num_classes else None
    assert net(x, t, labels).shape == x.shape
    if num_classes:  # The null class (None) is the unconditional branch: no label reaches it.
        unconditional = net(x, t)
        torch.testing.assert_close(net(x, t, torch.full((2,), net.null_label)), unconditional)
        assert not torch.allclose(net(x, t, labels), unconditional)
    else:
        with pytest.raises(ValueError, match="unconditional"):
            net(x, t, torch.tensor([1, 2]))


def test_the_unet_refuses_a_resolution_it_cannot_halve() -> None:
    with pytest.raises(UserError, match="even image resolution"):
        UNet(1, 7)


def test_label_dropout_uses_the_null_class_at_its_rate() -> None:
    embedding = LabelEmbedding(10, 4)
    torch.manual_seed(0)
    dropped = embedding.drop(torch.zeros(10_000, dtype=torch.long), 0.25)
    assert set(dropped.unique().tolist()) == {0, embedding.null}
    assert float((dropped == embedding.null).float().mean()) == pytest.approx(0.25, abs=0.02)
    labels = torch.arange(5)
    assert embedding.drop(labels, 0.0) is labels
