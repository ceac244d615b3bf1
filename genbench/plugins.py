"""Plugin discovery: a fresh pluggy manager per run, and the registry of models and datasets it yields.

Built-in plugins are found through the same ``genbench`` entry point group as third-party ones; the
core never imports them. ``GENBENCH_DISABLE_PLUGIN_AUTOLOAD=1`` turns entry points off (tests then
register fake plugins directly); ``GENBENCH_PLUGINS=mod1,mod2`` imports and registers modules by name,
which is how to try a plugin before packaging it.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import pluggy

from genbench import hookspecs
from genbench.api import Dataset, Model
from genbench.errors import PluginConflictError, UnknownNameError, UserError

ENTRY_POINT_GROUP = "genbench"
DISABLE_AUTOLOAD_ENV = "GENBENCH_DISABLE_PLUGIN_AUTOLOAD"
PLUGINS_ENV = "GENBENCH_PLUGINS"
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")

Kind = Literal["model", "dataset"]


def make_plugin_manager(plugins: Iterable[object] = (), autoload: bool | None = None) -> pluggy.PluginManager:
    """A new plugin manager with genbench's hookspecs, entry-point plugins, the modules named in
    ``GENBENCH_PLUGINS`` and ``plugins`` registered.

    ``autoload=None`` loads entry points unless ``GENBENCH_DISABLE_PLUGIN_AUTOLOAD`` is set.
    ``check_pending`` makes a misspelled hook name fail here, loudly, instead of being ignored.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    if autoload is None:
        autoload = not os.environ.get(DISABLE_AUTOLOAD_ENV)
    if autoload:
        pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    for module in filter(None, os.environ.get(PLUGINS_ENV, "").split(",")):
        try:
            pm.register(importlib.import_module(module.strip()))
        except ImportError as error:
            raise UserError(
                f"{PLUGINS_ENV} names module '{module}', which cannot be imported: {error}"
            ) from error
    for plugin in plugins:
        pm.register(plugin)
    pm.check_pending()
    return pm


@dataclass(frozen=True)
class PluginEntry:
    """One registered model or dataset class and where it came from."""

    name: str
    kind: Kind
    cls: type
    distribution: str
    version: str
    description: str
    conditional: bool | None  # Models only.


class Registry:
    """Models and datasets by name, built from every plugin's registration hooks."""

    def __init__(self, entries: Iterable[PluginEntry]) -> None:
        self.models: dict[str, PluginEntry] = {}
        self.datasets: dict[str, PluginEntry] = {}
        for entry in entries:
            table = self.models if entry.kind == "model" else self.datasets
            if entry.name in table:
                other = table[entry.name]
                raise PluginConflictError(
                    f"{entry.kind} '{entry.name}' is registered by both {_source(other)} and "
                    f"{_source(entry)}; uninstall one of them"
                )
            table[entry.name] = entry

    @classmethod
    def from_plugin_manager(cls, pm: pluggy.PluginManager) -> Registry:
        """Call each plugin's hooks one by one, so every class is attributed to its distribution."""
        dists = {id(plugin): dist for plugin, dist in pm.list_plugin_distinfo()}
        entries: list[PluginEntry] = []
        for kind, hook, base in (
            ("model", pm.hook.register_models, Model),
            ("dataset", pm.hook.register_datasets, Dataset),
        ):
            for impl in hook.get_hookimpls():  # In registration order.
                dist = dists.get(id(impl.plugin))
                source = (dist.project_name, dist.version) if dist else (impl.plugin_name, "")
                for obj in impl.function() or ():
                    entries.append(_entry(kind, obj, base, *source))
        return cls(entries)

    @classmethod
    def discover(cls, plugins: Iterable[object] = (), autoload: bool | None = None) -> Registry:
        """The registry of a fresh plugin manager (see :func:`make_plugin_manager`)."""
        return cls.from_plugin_manager(make_plugin_manager(plugins, autoload))

    def model(self, name: str) -> PluginEntry:
        """The model called ``name``; a user error listing the available names otherwise."""
        return _lookup(self.models, "model", name)

    def dataset(self, name: str) -> PluginEntry:
        """The dataset called ``name``; a user error listing the available names otherwise."""
        return _lookup(self.datasets, "dataset", name)

    def entries(self) -> list[PluginEntry]:
        """Every entry, models first, each kind sorted by name."""
        return [self.models[n] for n in sorted(self.models)] + [
            self.datasets[n] for n in sorted(self.datasets)
        ]

    def distributions(self) -> dict[str, str]:
        """``{distribution: version}`` of every plugin that registered something."""
        return {e.distribution: e.version for e in self.entries()}


def _entry(kind: Kind, obj: Any, base: type, distribution: str, version: str) -> PluginEntry:
    who = f"{distribution} {version}".strip()
    if not (isinstance(obj, type) and issubclass(obj, base)):
        raise UserError(
            f"plugin {who} registered {obj!r} as a {kind}, but it is not a genbench.{base.__name__}"
        )
    name = getattr(obj, "name", None)
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise UserError(
            f"plugin {who} registered {kind} class {obj.__qualname__} with invalid name {name!r} "
            "(use lowercase letters, digits, '-' and '_')"
        )
    if kind == "dataset" and not hasattr(obj, "shape"):
        raise UserError(f"plugin {who} registered dataset '{name}' without a `shape`")
    doc = (obj.description or (obj.__doc__ or "")).strip()
    return PluginEntry(
        name=name,
        kind=kind,
        cls=obj,
        distribution=distribution,
        version=version,
        description=doc.splitlines()[0] if doc else "",
        conditional=bool(obj.conditional) if kind == "model" else None,
    )


def _source(entry: PluginEntry) -> str:
    return f"{entry.distribution} {entry.version}".strip()


def _lookup(table: dict[str, PluginEntry], kind: str, name: str) -> PluginEntry:
    if name not in table:
        available = ", ".join(sorted(table)) or "none installed"
        raise UnknownNameError(f"unknown {kind} '{name}'; available: {available}")
    return table[name]
