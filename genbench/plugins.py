"""Plugin discovery: a fresh pluggy manager per run, and the registry of models and datasets it yields.

Built-in plugins are found through the same ``genbench`` entry point group as third-party ones; the
core never imports them. ``GENBENCH_DISABLE_PLUGIN_AUTOLOAD=1`` turns entry points off (tests then
register fake plugins directly); ``GENBENCH_PLUGINS=mod1,mod2`` imports and registers modules by name,
which is how to try a plugin before packaging it.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
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


@dataclass(frozen=True)
class BrokenPlugin:
    """A plugin that failed to load (import error, or an exception in its registration hook)."""

    name: str  # The entry point's or module's name.
    distribution: str
    version: str
    error: str  # One line: the exception's type and message.


class GenbenchPluginManager(pluggy.PluginManager):
    """A pluggy manager that also knows each plugin's distribution and the plugins that failed to load."""

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT_NAME)
        self.sources: dict[int, tuple[str, str]] = {}  # id(plugin) -> (distribution, version)
        self.broken: list[BrokenPlugin] = []

    def load_entry_points(self, group: str) -> None:
        """Register every plugin of the entry point ``group``; one that fails to import is recorded as
        broken and the others still load (unlike ``load_setuptools_entrypoints``, which stops)."""
        for dist in metadata.distributions():
            for entry_point in dist.entry_points.select(group=group):
                if self.get_plugin(entry_point.name) is not None:
                    continue  # The same distribution seen twice on sys.path.
                source = (dist.metadata["name"], dist.version)
                try:
                    plugin = entry_point.load()
                except Exception as error:  # Any error in a third party's import must not stop us.
                    self.broken.append(BrokenPlugin(entry_point.name, *source, _one_line(error)))
                    continue
                self.register(plugin, name=entry_point.name)
                self.sources[id(plugin)] = source

    def load_modules(self, names: Iterable[str]) -> None:
        """Import and register modules by name (``GENBENCH_PLUGINS``); a name that is not a module is
        a user error, a module that fails while importing is a broken plugin."""
        for name in names:
            try:
                self.register(importlib.import_module(name))
            except ModuleNotFoundError as error:
                if error.name != name:
                    self.broken.append(BrokenPlugin(name, name, "", _one_line(error)))
                    continue
                raise UserError(
                    f"{PLUGINS_ENV} names module '{name}', which cannot be imported: {error}"
                ) from error
            except Exception as error:
                self.broken.append(BrokenPlugin(name, name, "", _one_line(error)))


def make_plugin_manager(
    plugins: Iterable[object] = (), autoload: bool | None = None
) -> GenbenchPluginManager:
    """A new plugin manager with genbench's hookspecs, entry-point plugins, the modules named in
    ``GENBENCH_PLUGINS`` and ``plugins`` registered.

    ``autoload=None`` loads entry points unless ``GENBENCH_DISABLE_PLUGIN_AUTOLOAD`` is set.
    ``check_pending`` makes a misspelled hook name fail here, loudly, instead of being ignored.
    """
    pm = GenbenchPluginManager()
    pm.add_hookspecs(hookspecs)
    if autoload is None:
        autoload = not os.environ.get(DISABLE_AUTOLOAD_ENV)
    if autoload:
        pm.load_entry_points(ENTRY_POINT_GROUP)
    pm.load_modules(name.strip() for name in os.environ.get(PLUGINS_ENV, "").split(",") if name.strip())
    for plugin in plugins:
        pm.register(plugin)
    pm.check_pending()
    return pm


def _one_line(error: BaseException) -> str:
    return " ".join(f"{type(error).__name__}: {error}".split())


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

    def __init__(self, entries: Iterable[PluginEntry], broken: Iterable[BrokenPlugin] = ()) -> None:
        self.broken = list(broken)
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
    def from_plugin_manager(cls, pm: GenbenchPluginManager) -> Registry:
        """Call each plugin's hooks one by one, so every class is attributed to its distribution; a hook
        that raises makes its plugin broken, not the registry."""
        entries: list[PluginEntry] = []
        broken = list(pm.broken)
        for kind, hook, base in (
            ("model", pm.hook.register_models, Model),
            ("dataset", pm.hook.register_datasets, Dataset),
        ):
            for impl in hook.get_hookimpls():  # In registration order.
                source = pm.sources.get(id(impl.plugin), (impl.plugin_name, ""))
                try:
                    registered = list(impl.function() or ())
                except Exception as error:
                    broken.append(BrokenPlugin(impl.plugin_name, *source, _one_line(error)))
                    continue
                entries += [_entry(kind, obj, base, *source) for obj in registered]
        return cls(entries, broken)

    @classmethod
    def discover(cls, plugins: Iterable[object] = (), autoload: bool | None = None) -> Registry:
        """The registry of a fresh plugin manager (see :func:`make_plugin_manager`)."""
        return cls.from_plugin_manager(make_plugin_manager(plugins, autoload))

    def model(self, name: str) -> PluginEntry:
        """The model called ``name``; a user error listing the available names otherwise."""
        return _lookup(self.models, "model", name, self.broken)

    def dataset(self, name: str) -> PluginEntry:
        """The dataset called ``name``, or for ``NAME:ARGUMENT`` the class that dataset's ``configure``
        makes of the argument; a user error listing the available names otherwise."""
        base, has_argument, argument = name.partition(":")
        entry = _lookup(self.datasets, "dataset", base, self.broken)
        if not has_argument:
            return entry
        cls = entry.cls.configure(argument)
        return dataclasses.replace(entry, name=cls.name, cls=cls, description=cls.description)

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


def _lookup(table: dict[str, PluginEntry], kind: str, name: str, broken: list[BrokenPlugin]) -> PluginEntry:
    if name not in table:
        available = ", ".join(sorted(table)) or "none installed"
        failed = "".join(f"; plugin {b.name} ({b.distribution}) failed to load: {b.error}" for b in broken)
        raise UnknownNameError(f"unknown {kind} '{name}'; available: {available}{failed}")
    return table[name]
