"""The house plan of docs/architecture.md, checked against the code: which layer may import which, no
import circles, and a core that never imports a plugin."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "genbench"
# The folder a module is in says who may depend on it. The plugin API (what a plugin author imports) is
# the top level (api, hookspecs, errors, contract and the package face) with blocks/ and testing/;
# everything else is internal. Each layer may import only the layers named here (besides itself).
PUBLIC_TOP_LEVEL = {
    "genbench",
    "genbench.api",
    "genbench.hookspecs",
    "genbench.errors",
    "genbench.contract",
    "genbench.tracking",
}
PUBLIC_PACKAGES = {"blocks", "testing"}
MAY_IMPORT = {
    "api": set(),
    "blocks": {"api"},
    "core": {"api"},
    "testing": {"api", "blocks", "core", "options"},  # options.overrides: hparams applied as --set does.
    "options": {"api", "core"},
    "figures": {"api", "blocks", "core"},  # blocks.modes: the pictures sample in the plugins' eval mode.
    "results": {"api", "core", "figures"},
    "evaluation": {"api", "blocks", "core", "options", "results"},
    "running": {"api", "blocks", "core", "options", "evaluation", "figures", "results"},
    "cli": {"api", "blocks", "core", "testing", "options", "evaluation", "figures", "results", "running"},
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) >= 2 and parts[1] in MAY_IMPORT:
        return parts[1]  # genbench.<subpackage>...
    assert module in PUBLIC_TOP_LEVEL, f"{module} is neither the plugin API nor in a subpackage"
    return "api"


def _imports(path: Path, top_level_only: bool) -> set[str]:
    """The genbench modules ``path`` imports (``from genbench import x`` counts as genbench.x when x is a
    module); with ``top_level_only``, only imports run when the module loads."""
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == "genbench"}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] != "genbench":
                continue
            found.add(node.module)
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                if (PACKAGE.parent / candidate.replace(".", "/")).with_suffix(".py").exists() or (
                    PACKAGE.parent / candidate.replace(".", "/") / "__init__.py"
                ).exists():
                    found.add(candidate)
    return found


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_each_layer_imports_only_the_layers_below_it(module: str) -> None:
    layer = _layer(module)
    allowed = MAY_IMPORT[layer] | {layer}
    wrong = sorted(
        imported
        for imported in _imports(MODULES[module], top_level_only=False)
        if imported != "genbench" and _layer(imported) not in allowed
    )
    assert not wrong, f"{module} ({layer}) imports {wrong}; {layer} may import only {sorted(allowed)}"


def test_no_import_circles() -> None:
    graph = {
        module: {imported for imported in _imports(path, top_level_only=True) if imported in MODULES}
        for module, path in MODULES.items()
    }
    # A package imports its __init__ first: that edge is not a circle of the modules' own making.
    graph = {
        module: {m for m in targets if not module.startswith(m + ".")} for module, targets in graph.items()
    }
    visiting: list[str] = []
    done: set[str] = set()

    def visit(module: str) -> None:
        if module in done:
            return
        assert module not in visiting, "import circle: " + " -> ".join([*visiting, module])
        visiting.append(module)
        for target in sorted(graph[module]):
            visit(target)
        visiting.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)


def test_the_top_level_holds_the_plugin_api_and_nothing_else() -> None:
    subpackages = set(MAY_IMPORT) - {"api"}
    top = {m for m in MODULES if m.count(".") <= 1 and m.split(".")[-1] not in subpackages}
    assert top == PUBLIC_TOP_LEVEL, "the top of genbench/ is the plugin API: put internals in a subpackage"
    assert {path.name for path in PACKAGE.iterdir() if (path / "__init__.py").exists()} == subpackages


def _plugin_packages() -> dict[str, Path]:
    """Every importable package under plugins/: a built-in one (plugins/NAME/__init__.py) or a separate
    distribution (plugins/DIST/NAME/__init__.py)."""
    found = {}
    for init in sorted((ROOT / "plugins").glob("*/__init__.py")) + sorted(
        (ROOT / "plugins").glob("*/*/__init__.py")
    ):
        if init.parent.name != "tests":
            found.setdefault(init.parent.name, init.parent)
    return found


def test_the_plugin_packages_are_found() -> None:
    assert {"genbench_builtin", "genbench_example"} <= set(_plugin_packages())


def test_the_core_never_imports_a_plugin() -> None:
    plugins = tuple(_plugin_packages())
    for module, path in MODULES.items():
        plugin_imports = [name for name in _imports_any(path) if name.split(".")[0] in plugins]
        assert not plugin_imports, f"{module} imports {plugin_imports}"


@pytest.mark.parametrize("package", sorted(_plugin_packages()))
def test_plugins_import_only_the_plugin_api(package: str) -> None:
    """A plugin (the built-in ones included) is written against the public API, so moving an internal
    module never breaks one."""
    for path in sorted(_plugin_packages()[package].rglob("*.py")):
        internal = sorted(
            name
            for name in _imports_any(path)
            if name.split(".")[0] == "genbench"
            and name not in PUBLIC_TOP_LEVEL
            and name.split(".")[1] not in PUBLIC_PACKAGES
        )
        assert not internal, f"{path.relative_to(ROOT)} imports internal modules {internal}"


def _imports_any(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_rules_can_fail() -> None:
    """The checks above would see a results module reaching into running."""
    assert _layer("genbench.results.leaderboard") == "results"
    assert _layer("genbench.running.sweep") not in MAY_IMPORT["results"]
    assert _layer("genbench.core.metrics") == "core" and _layer("genbench.cli") == "cli"
    assert _layer("genbench.api") == "api" and "core" not in MAY_IMPORT["blocks"]
    with pytest.raises(AssertionError, match="neither the plugin API"):
        _layer("genbench.helpers")
