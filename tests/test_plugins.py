"""Plugin discovery: registration through hooks; a faulty plugin (misspelt hook, wrong API version, bad
class) is broken and a name claimed twice a conflict, both listed, neither blocking the tool."""

from __future__ import annotations

import sys
import textwrap
import tomllib
import types
from pathlib import Path

import fakes
import pytest
from typer.testing import CliRunner

import genbench
from genbench import hookimpl
from genbench.cli import app
from genbench.core.registry import Registry, make_plugin_manager
from genbench.errors import PluginConflictError, UnknownNameError, UserError

runner = CliRunner()


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


def test_two_plugins_claiming_one_name_are_listed_and_only_that_name_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Issue 13: a name claimed twice made `genbench plugins` and every `genbench run` fail (exit 2).
    other = plugin_module(
        "other_plugin",
        register_models=hookimpl(lambda: [fakes.PixelGaussian]),
        register_datasets=hookimpl(lambda: [_Dots]),
    )
    registry = Registry.discover([fakes, other], autoload=False)
    assert set(registry.models) == set() and set(registry.datasets) == {"bars", "dots"}
    assert [(e.name, e.distribution, reason) for e, reason in registry.conflicting()] == [
        ("pixel-gaussian", fakes.__name__, "model 'pixel-gaussian' is also registered by other_plugin"),
        ("pixel-gaussian", "other_plugin", f"model 'pixel-gaussian' is also registered by {fakes.__name__}"),
    ]
    with pytest.raises(PluginConflictError) as error:
        registry.model("pixel-gaussian")
    assert str(error.value) == (
        f"model 'pixel-gaussian' is registered by {fakes.__name__} and other_plugin: "
        "uninstall all but one of them (`genbench plugins` lists them)"
    )
    assert registry.dataset("dots").cls is _Dots  # Names claimed once still work.

    monkeypatch.setenv("GENBENCH_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setitem(sys.modules, "other_plugin", other)
    monkeypatch.setenv("GENBENCH_PLUGINS", "fakes,other_plugin")
    monkeypatch.setenv("COLUMNS", "250")
    listing = runner.invoke(app, ["plugins"])
    assert listing.exit_code == 0, listing.output
    assert listing.stdout.count("CONFLICT: model 'pixel-gaussian' is also registered by") == 2
    run = runner.invoke(app, ["run", "--models", "pixel-gaussian", "--data", "bars"])
    assert run.exit_code == 2
    assert run.stderr.startswith("error: model 'pixel-gaussian' is registered by fakes and other_plugin")
    assert run.stderr.count("\n") == 1


class _Dots(fakes.Bars):
    name = "dots"


def test_a_misspelt_hook_makes_its_plugin_broken_not_the_tool(monkeypatch: pytest.MonkeyPatch) -> None:
    # Issue 13: `register_model` ended `genbench plugins` and every `genbench run` with a traceback.
    typo = plugin_module("typo_plugin", register_model=hookimpl(lambda: [fakes.PixelGaussian]))
    registry = Registry.discover([fakes, typo], autoload=False)
    assert [(b.name, b.error) for b in registry.broken] == [
        ("typo_plugin", "unknown hook register_model (did you mean register_models?)")
    ]
    assert set(registry.models) == {"pixel-gaussian"}  # The other plugins load.

    monkeypatch.setenv("GENBENCH_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setitem(sys.modules, "typo_plugin", typo)
    monkeypatch.setenv("GENBENCH_PLUGINS", "fakes,typo_plugin")
    monkeypatch.setenv("COLUMNS", "250")
    listing = runner.invoke(app, ["plugins"])
    assert listing.exit_code == 0, listing.output
    assert "BROKEN: unknown hook register_model (did you mean register_models?)" in listing.stdout
    unknown = runner.invoke(app, ["run", "--models", "typo-gan"])
    assert unknown.exit_code == 2 and unknown.stderr.count("\n") == 1
    assert "plugin typo_plugin (typo_plugin) failed to load: unknown hook register_model" in unknown.stderr


def test_a_hook_with_parameters_genbench_does_not_pass_is_broken() -> None:
    odd = plugin_module("odd_plugin", register_models=hookimpl(lambda config: [fakes.PixelGaussian]))
    registry = Registry.discover([odd], autoload=False)
    [broken] = registry.broken
    assert broken.name == "odd_plugin" and "config" in broken.error and registry.entries() == []


def test_registered_objects_are_validated_and_the_bad_ones_broken() -> None:
    class Unnamed(fakes.PixelGaussian):
        name = "Has Spaces"

    bad = plugin_module("bad_plugin", register_models=hookimpl(lambda: [int, Unnamed, fakes.PixelGaussian]))
    registry = Registry.discover([bad], autoload=False)
    assert [b.error for b in registry.broken] == [
        "registered <class 'int'> as a model, but it is not a genbench.Model subclass",
        "registered model class test_registered_objects_are_validated_and_the_bad_ones_broken.<locals>."
        "Unnamed with invalid name 'Has Spaces': use lowercase letters, digits, '-' and '_'",
    ]
    assert set(registry.models) == {"pixel-gaussian"}  # What the plugin got right is still usable.


@pytest.mark.parametrize(
    ("required", "error"),
    [
        (">=1,<2", None),
        ("~=1.0", None),
        (
            ">=2",
            "it needs genbench plugin API >=2, and this genbench offers API 1.3: install a release of "
            "the plugin made for API 1.3, or a genbench that offers >=2",
        ),
        ("version one", "GENBENCH_API = 'version one' is not a version range such as '>=1,<2'"),
    ],
)
def test_a_plugin_states_the_api_versions_it_accepts(required: str, error: str | None) -> None:
    assert genbench.API_VERSION == "1.3"
    plugin = plugin_module("versioned", register_models=hookimpl(lambda: [fakes.PixelGaussian]))
    plugin.GENBENCH_API = required
    registry = Registry.discover([plugin], autoload=False)
    if error is None:
        assert set(registry.models) == {"pixel-gaussian"} and registry.broken == []
    else:
        assert [(b.name, b.error) for b in registry.broken] == [("versioned", error)]
        assert registry.entries() == []


def test_the_release_version_is_the_one_pyproject_gives() -> None:
    project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]
    # Read from the installed metadata: an install older than this pyproject needs `pip install -e .`.
    assert genbench.__version__ == project["version"]


def test_a_module_named_twice_is_registered_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENBENCH_PLUGINS", "fakes,fakes")
    registry = Registry.discover([fakes], autoload=False)
    assert set(registry.models) == {"pixel-gaussian"} and registry.conflicts == {} and registry.broken == []


def test_each_plugin_manager_is_fresh() -> None:
    first = make_plugin_manager([fakes], autoload=False)
    second = make_plugin_manager([], autoload=False)
    assert first.is_registered(fakes) and not second.is_registered(fakes)


def test_autoload_turns_entry_points_on_and_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GENBENCH_PLUGINS", raising=False)
    loaded = Registry.discover(autoload=True)
    assert {"dcgan", "vae"} <= set(loaded.models)
    assert {"digits", "mnist", "fashion-mnist", "cifar10"} <= set(loaded.datasets)
    assert loaded.model("dcgan").distribution == "genbench"  # Built-ins come through entry points too.
    assert Registry.discover(autoload=False).entries() == []


@pytest.mark.parametrize(
    ("value", "autoload"),
    [("0", True), ("false", True), ("Off", True), ("1", False), ("true", False), ("YES", False)],
)
def test_the_autoload_switch_is_read_as_a_yes_no_word(
    monkeypatch: pytest.MonkeyPatch, value: str, autoload: bool
) -> None:
    # Issue 18: any value that was not empty turned entry points off, "0" and "false" included.
    monkeypatch.delenv("GENBENCH_PLUGINS", raising=False)
    monkeypatch.setenv("GENBENCH_DISABLE_PLUGIN_AUTOLOAD", value)
    result = runner.invoke(app, ["plugins"])
    assert result.exit_code == 0, result.output
    assert ("dcgan" in result.stdout) is autoload, result.stdout


def test_an_autoload_switch_that_is_no_yes_no_word_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENBENCH_DISABLE_PLUGIN_AUTOLOAD", "maybe")
    result = runner.invoke(app, ["plugins"])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
    assert "GENBENCH_DISABLE_PLUGIN_AUTOLOAD takes 1/0, true/false" in result.stderr


def test_an_autoload_switch_set_but_empty_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    # Issue 23: a variable set but empty is refused (unset it for the default), as every GENBENCH_* one.
    monkeypatch.setenv("GENBENCH_DISABLE_PLUGIN_AUTOLOAD", "")
    result = runner.invoke(app, ["plugins"])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
    assert "GENBENCH_DISABLE_PLUGIN_AUTOLOAD is set but empty" in result.stderr


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


def _distribution(folder: Path, name: str, entry_points: str, module: str, body: str) -> None:
    """An installed distribution on ``folder`` (put on sys.path) whose module is ``body``."""
    info = folder / f"{name.replace('-', '_')}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[genbench]\n{entry_points}\n")
    (folder / f"{module}.py").write_text(textwrap.dedent(body))


def test_installed_packages_with_a_misspelt_hook_or_a_shared_entry_point_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plugin = """
        from fakes import PixelGaussian
        from genbench import hookimpl

        class Gan(PixelGaussian):
            name = "{name}"

        @hookimpl
        def {hook}():
            return [Gan]
        """
    _distribution(
        tmp_path,
        "genbench-typo",
        "typo = typo_models",
        "typo_models",
        plugin.format(name="typo-gan", hook="register_model"),
    )
    _distribution(
        tmp_path,
        "genbench-good",
        "models = good_models",
        "good_models",
        plugin.format(name="good-gan", hook="register_models"),
    )
    _distribution(
        tmp_path,
        "genbench-other",
        "models = other_models",
        "other_models",
        plugin.format(name="other-gan", hook="register_models"),
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("GENBENCH_PLUGINS", raising=False)
    registry = Registry.discover(autoload=True)
    assert [(b.distribution, b.version, b.error) for b in registry.broken] == [
        ("genbench-typo", "1.0", "unknown hook register_model (did you mean register_models?)")
    ]
    # The same entry point name in two packages: each is registered, under its package's name.
    assert registry.model("good-gan").distribution == "genbench-good"
    assert registry.model("other-gan").distribution == "genbench-other"
    assert {"dcgan", "vae"} <= set(registry.models)  # The built-ins still load.
