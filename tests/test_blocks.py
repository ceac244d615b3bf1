"""genbench.blocks is the public home of the building blocks the built-in models use: documented, and
imported by the plugins."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest
import torch

import genbench.blocks
from genbench import DataShape
from genbench.blocks import DownLadder, FeatureHead, LatentStem, UpLadder, eval_mode, ladder_plan

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
