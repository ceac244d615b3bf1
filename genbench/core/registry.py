"""Plugin discovery: a fresh pluggy manager per run, and the registry of models, datasets and trackers
it yields.

Built-in plugins are found through the same ``genbench`` entry point group as third-party ones; the
core never imports them. ``autoload=False`` leaves entry points alone (tests then register fake plugins
directly); the command line decides it from ``GENBENCH_DISABLE_PLUGIN_AUTOLOAD``
(:func:`genbench.options.environment.plugin_autoload`). ``GENBENCH_PLUGINS=mod1,mod2`` imports and
registers modules by name, which is how to try a plugin before packaging it.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import pluggy
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from genbench import hookspecs
from genbench.api import API_VERSION
from genbench.contract import Kind, class_problem
from genbench.errors import PluginConflictError, UnknownNameError, UserError, one_line

ENTRY_POINT_GROUP = "genbench"
PLUGINS_ENV = "GENBENCH_PLUGINS"
# Trackers that come in packages of their own: what `--track NAME` says when the package is missing.
TRACKER_PACKAGES = {
    "mlflow": "the MLflow tracker is the package genbench-mlflow: pip install genbench-mlflow "
    "(from genbench's source: pip install ./plugins/genbench_mlflow)",
}


@dataclass(frozen=True)
class BrokenPlugin:
    """A plugin that failed to load: an import error, a misspelt hook, an API version it does not
    accept, an exception in a registration hook or a registered class that is not usable."""

    name: str  # The entry point's or module's name.
    distribution: str
    version: str
    error: str  # One line: what went wrong and, where known, what to do.


class GenbenchPluginManager(pluggy.PluginManager):
    """A pluggy manager that also knows each plugin's distribution and the plugins that failed to load.

    Every plugin is checked as it is registered (API version, hook names and signatures); one that
    fails is recorded as broken and left out, so one faulty package never stops genbench."""

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT_NAME)
        self.add_hookspecs(hookspecs)
        self.sources: dict[int, tuple[str, str]] = {}  # id(plugin) -> (distribution, version)
        self.broken: list[BrokenPlugin] = []

    def add(self, plugin: object, name: str | None = None, source: tuple[str, str] | None = None) -> None:
        """Register ``plugin`` (``source``: its distribution and version) if it passes the checks;
        record it as broken, with the reason, if not."""
        label = name or self.get_canonical_name(plugin)
        source = source or (label, "")
        if self.is_registered(plugin):
            return  # The same module named twice.
        problem = api_version_problem(plugin)
        if problem is None:
            try:
                self.register(plugin, name=name)
                self.check_pending()  # Every plugin before this one passed: only this one can fail.
            except (pluggy.PluginValidationError, ValueError) as error:
                problem = self._unknown_hooks(plugin) or one_line(error)
                if self.is_registered(plugin):
                    self.unregister(plugin)
        if problem is not None:
            self.broken.append(BrokenPlugin(label, *source, problem))
        else:
            self.sources[id(plugin)] = source

    def _unknown_hooks(self, plugin: object) -> str | None:
        """Each hook of ``plugin`` that genbench does not define, with the hook it probably meant."""
        known = [name for name in vars(hookspecs) if name.startswith("register_")]
        unknown = [
            name
            for name, caller in vars(self.hook).items()
            if not name.startswith("_")
            and not caller.has_spec()
            and any(impl.plugin is plugin for impl in caller.get_hookimpls())
        ]
        reasons = []
        for name in unknown:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0]}?)" if close else f"; genbench's hooks: {', '.join(known)}"
            reasons.append(f"unknown hook {name}{hint}")
        return "; ".join(reasons) or None

    def load_entry_points(self, group: str) -> None:
        """Register every plugin of the entry point ``group``; one that fails to import or to register
        is recorded as broken and the others still load (unlike ``load_setuptools_entrypoints``)."""
        for dist in metadata.distributions():
            for entry_point in dist.entry_points.select(group=group):
                source = (dist.metadata["name"], dist.version)
                name = entry_point.name
                if self.get_plugin(name) is not None:
                    if self.sources.get(id(self.get_plugin(name))) == source:
                        continue  # The same distribution seen twice on sys.path.
                    name = f"{source[0]}:{name}"  # Another package chose the same entry point name.
                try:
                    plugin = entry_point.load()
                except Exception as error:  # Any error in a third party's import must not stop us.
                    self.broken.append(BrokenPlugin(name, *source, one_line(error)))
                    continue
                self.add(plugin, name=name, source=source)

    def load_modules(self, names: Iterable[str]) -> None:
        """Import and register modules by name (``GENBENCH_PLUGINS``); a name that is not a module is
        a user error, a module that fails while importing is a broken plugin."""
        for name in names:
            try:
                module = importlib.import_module(name)
            except ModuleNotFoundError as error:
                # The named module, or a package above it, is not there: a typo, not a broken plugin.
                if error.name is None or not (name == error.name or name.startswith(f"{error.name}.")):
                    self.broken.append(BrokenPlugin(name, name, "", one_line(error)))
                    continue
                raise UserError(
                    f"{PLUGINS_ENV} names module '{name}', which cannot be imported: {error}"
                ) from error
            except Exception as error:
                self.broken.append(BrokenPlugin(name, name, "", one_line(error)))
                continue
            self.add(module)


def api_version_problem(plugin: object) -> str | None:
    """Why ``plugin`` cannot run on this genbench: the plugin API range it states in ``GENBENCH_API``
    (e.g. ``">=1,<2"``) excludes :data:`genbench.api.API_VERSION`; None when it fits or states none."""
    required = getattr(plugin, "GENBENCH_API", None)
    if required is None:
        return None
    try:
        accepted = SpecifierSet(str(required))
    except InvalidSpecifier:
        return f"GENBENCH_API = {required!r} is not a version range such as '>=1,<2'"
    if accepted.contains(API_VERSION, prereleases=True):
        return None
    return (
        f"it needs genbench plugin API {required}, and this genbench offers API {API_VERSION}: install "
        f"a release of the plugin made for API {API_VERSION}, or a genbench that offers {required}"
    )


def make_plugin_manager(plugins: Iterable[object] = (), autoload: bool = True) -> GenbenchPluginManager:
    """A new plugin manager with genbench's hookspecs, entry-point plugins (unless ``autoload`` is
    false), the modules named in ``GENBENCH_PLUGINS`` and ``plugins`` registered; the ones that fail
    their checks are in ``broken``.

    The environment's autoload switch is the caller's to read: it is a yes/no word parsed with the
    options' rules (:func:`genbench.options.environment.plugin_autoload`), which this layer cannot import.
    """
    pm = GenbenchPluginManager()
    if autoload:
        pm.load_entry_points(ENTRY_POINT_GROUP)
    pm.load_modules(plugin_modules())
    for plugin in plugins:
        pm.add(plugin)
    return pm


def plugin_modules() -> list[str]:
    """The module names ``GENBENCH_PLUGINS`` lists; set but blank, or with an empty item (``a,,b``), is
    a one-line user error rather than a list that silently names fewer modules."""
    value = os.environ.get(PLUGINS_ENV)
    if value is None:
        return []
    names = [name.strip() for name in value.split(",")]
    if not all(names):
        raise UserError(
            f"{PLUGINS_ENV} takes comma-separated module names without empty items, got {value!r}; "
            f"unset it (unset {PLUGINS_ENV}) to load no module by name"
        )
    return names


@dataclass(frozen=True)
class PluginEntry:
    """One registered model, dataset or tracker class and where it came from."""

    name: str
    kind: Kind
    cls: type
    distribution: str
    version: str
    description: str
    conditional: bool | None  # Models only.


class Registry:
    """Models, datasets and trackers by name, built from every plugin's registration hooks.

    A name two plugins claim is in neither table but in ``conflicts``: listing works, and only a run
    that asks for that name fails, naming the packages that claim it."""

    def __init__(self, entries: Iterable[PluginEntry], broken: Iterable[BrokenPlugin] = ()) -> None:
        self.broken = list(broken)
        self.models: dict[str, PluginEntry] = {}
        self.datasets: dict[str, PluginEntry] = {}
        self.trackers: dict[str, PluginEntry] = {}
        self.conflicts: dict[tuple[Kind, str], list[PluginEntry]] = {}
        for entry in entries:
            key = (entry.kind, entry.name)
            table = self._table(entry.kind)
            if key in self.conflicts:
                self.conflicts[key].append(entry)
            elif entry.name in table:
                self.conflicts[key] = [table.pop(entry.name), entry]
            else:
                table[entry.name] = entry

    @classmethod
    def from_plugin_manager(cls, pm: GenbenchPluginManager) -> Registry:
        """Call each plugin's hooks one by one, so every class is attributed to its distribution; a hook
        that raises, or registers something unusable, makes its plugin broken, not the registry."""
        entries: list[PluginEntry] = []
        broken = list(pm.broken)
        hooks: tuple[tuple[Kind, Any], ...] = (
            ("model", pm.hook.register_models),
            ("dataset", pm.hook.register_datasets),
            ("tracker", pm.hook.register_trackers),
        )
        for kind, hook in hooks:
            for impl in hook.get_hookimpls():  # In registration order.
                source = pm.sources.get(id(impl.plugin), (impl.plugin_name, ""))
                try:
                    registered = list(impl.function() or ())
                except Exception as error:
                    broken.append(BrokenPlugin(impl.plugin_name, *source, one_line(error)))
                    continue
                for obj in registered:
                    problem = class_problem(kind, obj)
                    if problem is None:
                        entries.append(_entry(kind, obj, *source))
                    else:
                        broken.append(BrokenPlugin(impl.plugin_name, *source, problem))
        return cls(entries, broken)

    @classmethod
    def discover(cls, plugins: Iterable[object] = (), autoload: bool = True) -> Registry:
        """The registry of a fresh plugin manager (see :func:`make_plugin_manager`)."""
        return cls.from_plugin_manager(make_plugin_manager(plugins, autoload))

    def model(self, name: str) -> PluginEntry:
        """The model called ``name``; a user error listing the available names otherwise."""
        return self._lookup(self.models, "model", name)

    def dataset(self, name: str) -> PluginEntry:
        """The dataset called ``name``, or for ``NAME:ARGUMENT`` the class that dataset's ``configure``
        makes of the argument; a user error listing the available names otherwise."""
        base, has_argument, argument = name.partition(":")
        entry = self._lookup(self.datasets, "dataset", base)
        if not has_argument:
            return entry
        try:
            cls = entry.cls.configure(argument)
        except UserError:
            raise
        except Exception as error:  # A plugin's bug, or an exception it did not foresee: one line.
            raise UserError(
                f"dataset '{base}' ({entry.distribution}) failed on {name!r}: {one_line(error)}"
            ) from error
        return dataclasses.replace(entry, name=cls.name, cls=cls, description=cls.description)

    def tracker(self, name: str) -> PluginEntry:
        """The tracker called ``name`` (``--track``); a user error naming the nearest one otherwise."""
        return self._lookup(self.trackers, "tracker", name)

    def entries(self) -> list[PluginEntry]:
        """Every usable entry: models, datasets, then trackers, each kind sorted by name."""
        return [table[n] for table in (self.models, self.datasets, self.trackers) for n in sorted(table)]

    def _table(self, kind: Kind) -> dict[str, PluginEntry]:
        return {"model": self.models, "dataset": self.datasets, "tracker": self.trackers}[kind]

    def conflicting(self) -> list[tuple[PluginEntry, str]]:
        """Each entry whose name another plugin claims too, with the reason it is not used."""
        return [
            (entry, f"{kind} '{name}' is also registered by {_sources(c for c in claims if c is not entry)}")
            for (kind, name), claims in sorted(self.conflicts.items())
            for entry in claims
        ]

    def _lookup(self, table: dict[str, PluginEntry], kind: Kind, name: str) -> PluginEntry:
        if (kind, name) in self.conflicts:
            raise PluginConflictError(
                f"{kind} '{name}' is registered by {_sources(self.conflicts[kind, name])}: uninstall all "
                "but one of them (`genbench plugins` lists them)"
            )
        if name not in table:
            available = ", ".join(sorted(table)) or "none installed"
            close = difflib.get_close_matches(name, table, n=1)
            nearest = f" (did you mean {close[0]}?)" if close else ""
            hint = f"; {TRACKER_PACKAGES[name]}" if kind == "tracker" and name in TRACKER_PACKAGES else ""
            failed = "".join(
                f"; plugin {b.name} ({b.distribution}) failed to load: {b.error}" for b in self.broken
            )
            raise UnknownNameError(f"unknown {kind} '{name}'{nearest}; available: {available}{hint}{failed}")
        return table[name]


def _entry(kind: Kind, obj: Any, distribution: str, version: str) -> PluginEntry:
    doc = (obj.description or (obj.__doc__ or "")).strip()
    return PluginEntry(
        name=obj.name,
        kind=kind,
        cls=obj,
        distribution=distribution,
        version=version,
        description=doc.splitlines()[0] if doc else "",
        conditional=bool(obj.conditional) if kind == "model" else None,
    )


def _sources(entries: Iterable[PluginEntry]) -> str:
    names = [f"{e.distribution} {e.version}".strip() for e in entries]
    return " and ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else names[0]
