"""Plugin discovery: registration through hooks, conflicts, misspelled hooks, the autoload switch."""

from __future__ import annotations

import types

import fakes
import pluggy
import pytest

from genbench import hookimpl
from genbench.errors import PluginConflictError, UnknownNameError, UserError
from genbench.plugins import Registry, make_plugin_manager


def plugin_module(name: str, **hooks: object) -> types.ModuleType:
    module = types.ModuleType(name)
    for hook_name, function in hooks.items():
        setattr(module, hook_name, function)
    return module


def test_fakes_are_registered_with_their_source(fake_registry: Registry) -> None:
    entry = fake_registry.model("pixel-gaussian")
    assert entry.cls is fakes.PixelGaussian
    assert entry.kind == "model" and entry.conditional is False
    assert entry.distribution == fakes.__name__  # Registered directly: named after the module.
    assert entry.description.startswith("A per-pixel Gaussian")
    assert fake_registry.dataset("bars").cls.shape.resolution == 8
    assert [e.name for e in fake_registry.entries()] == ["pixel-gaussian", "bars"]


def test_unknown_name_lists_the_available_ones(fake_registry: Registry) -> None:
    with pytest.raises(UnknownNameError, match=r"unknown model 'dcgna'; available: pixel-gaussian$"):
        fake_registry.model("dcgna")
    with pytest.raises(UnknownNameError, match=r"unknown dataset 'mnsit'; available: bars$"):
        fake_registry.dataset("mnsit")


def test_two_plugins_claiming_one_name_is_an_error_naming_both() -> None:
    other = plugin_module("other_plugin", register_models=hookimpl(lambda: [fakes.PixelGaussian]))
    with pytest.raises(PluginConflictError) as error:
        Registry.discover([fakes, other], autoload=False)
    message = str(error.value)
    assert "model 'pixel-gaussian'" in message
    assert fakes.__name__ in message and "other_plugin" in message


def test_a_misspelled_hook_fails_loudly() -> None:
    typo = plugin_module("typo_plugin", register_model=hookimpl(lambda: [fakes.PixelGaussian]))
    with pytest.raises(pluggy.PluginValidationError, match="register_model"):
        make_plugin_manager([typo], autoload=False)


def test_registered_objects_are_validated() -> None:
    not_a_model = plugin_module("bad_plugin", register_models=hookimpl(lambda: [int]))
    with pytest.raises(UserError, match=r"is not a genbench\.Model"):
        Registry.discover([not_a_model], autoload=False)

    class Unnamed(fakes.PixelGaussian):
        name = "Has Spaces"

    bad_name = plugin_module("bad_name", register_models=hookimpl(lambda: [Unnamed]))
    with pytest.raises(UserError, match="invalid name 'Has Spaces'"):
        Registry.discover([bad_name], autoload=False)


def test_each_plugin_manager_is_fresh() -> None:
    first = make_plugin_manager([fakes], autoload=False)
    second = make_plugin_manager([], autoload=False)
    assert first.is_registered(fakes) and not second.is_registered(fakes)


def test_autoload_switch_turns_entry_points_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GENBENCH_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    loaded = Registry.discover()
    assert {"dcgan", "vae"} <= set(loaded.models)
    assert {"digits", "mnist", "fashion-mnist", "cifar10"} <= set(loaded.datasets)
    assert loaded.model("dcgan").distribution == "genbench"  # Built-ins come through entry points too.

    monkeypatch.setenv("GENBENCH_DISABLE_PLUGIN_AUTOLOAD", "1")
    assert Registry.discover().entries() == []


def test_plugins_named_in_the_environment_are_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENBENCH_PLUGINS", "fakes")
    assert set(Registry.discover(autoload=False).models) == {"pixel-gaussian"}
    monkeypatch.setenv("GENBENCH_PLUGINS", "no_such_module_xyz")
    with pytest.raises(UserError, match="no_such_module_xyz"):
        Registry.discover(autoload=False)


def test_hyperparameters_are_resolved_by_name() -> None:
    hparams = fakes.PixelGaussian.resolve_hparams(lr=0.5)
    assert hparams.lr == 0.5 and hparams.batch_size == 32
    with pytest.raises(UserError, match="no hyperparameter lrr; it has: batch_size, lr"):
        fakes.PixelGaussian.resolve_hparams(lrr=0.5)
