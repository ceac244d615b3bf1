"""The house plan of docs/architecture.md, checked against the code: which layer may import which, no
import circles, and a core that never imports a plugin."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "genbench"
# The layers of the pipeline and what each may import (besides itself). "base" is the plugin API and the
# shared conventions at the top of the package; cli sits on everything.
MAY_IMPORT = {
    "base": set(),
    "options": {"base"},
    "figures": {"base"},
    "results": {"base", "figures"},
    "evaluation": {"base", "options", "results"},
    "running": {"base", "options", "evaluation", "figures", "results"},
    "cli": {"base", "options", "evaluation", "figures", "results", "running"},
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) > 2 or (len(parts) == 2 and parts[1] in MAY_IMPORT):
        return parts[1]  # genbench.<subpackage>...
    return "cli" if module == "genbench.cli" else "base"


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


def test_the_core_never_imports_a_plugin() -> None:
    for module, path in MODULES.items():
        plugin_imports = [name for name in _imports_any(path) if name.startswith("genbench_builtin")]
        assert not plugin_imports, f"{module} imports {plugin_imports}"


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
    assert _layer("genbench.metrics") == "base" and _layer("genbench.cli") == "cli"
