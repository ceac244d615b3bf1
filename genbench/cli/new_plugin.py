"""``genbench new-plugin NAME``: a ready plugin package in a new folder ``NAME/``.

The package has a pyproject with the ``genbench`` entry point and the genbench dependency, a model and
a dataset that pass genbench's contract as written, a test file running that contract, and a README
(the files under ``genbench/cli/templates/``, package data). It installs with
``pip install -e NAME`` and runs with ``genbench run --models NAME --data NAME``.
"""

from __future__ import annotations

import importlib.util
import keyword
import re
from collections.abc import Iterator
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from genbench import API_VERSION
from genbench.core.registry import Registry
from genbench.errors import UserError

# The oldest genbench release offering each plugin API version (genbench.api.API_VERSION). A new plugin
# depends on genbench >= the one for the API it is written against, not on the release that wrote it, so
# it installs beside every genbench that can run it; a new API version adds its entry (docs/plugins.md
# gives the same floor, tests/test_scaffold.py checks both).
API_FIRST_RELEASE = {"1.0": "0.1", "1.1": "0.3"}

# A distribution name that is also a genbench model / dataset name once '-' becomes '_' for the module:
# lowercase letters, digits, '-' and '_', starting with a letter.
_NAME_RE = re.compile(r"^[a-z][a-z0-9_-]*$")
MAX_NAME_LENGTH = 64  # It names a folder, a module, classes and a distribution: long names help no one.


def module_name(name: str) -> str:
    """The import name of plugin ``name``: ``my-gan`` -> ``my_gan``."""
    return name.replace("-", "_")


def class_stem(name: str) -> str:
    """The stem of the plugin's class names: ``my-gan`` -> ``MyGan``."""
    return "".join(part.capitalize() for part in re.split(r"[-_]+", name) if part)


def check_name(name: str, parent: Path) -> None:
    """Refuse a name that cannot be a distribution, module and genbench plugin name, one that an
    importable module or an installed plugin's model or dataset already has, or whose folder exists;
    each with a one-line :class:`UserError`."""
    if len(name) > MAX_NAME_LENGTH:
        raise UserError(f"plugin name {name[:20]}… is {len(name)} characters; use at most {MAX_NAME_LENGTH}")
    if not _NAME_RE.match(name) or name.endswith(("-", "_")):
        raise UserError(
            f"plugin name {name!r} is not valid: use lowercase letters, digits, '-' and '_', starting "
            "with a letter (e.g. my-gan)"
        )
    module = module_name(name)
    if keyword.iskeyword(module):
        raise UserError(f"plugin name {name!r} is a Python keyword, not a module name; choose another")
    if importlib.util.find_spec(module) is not None:
        raise UserError(f"plugin name {name!r} would clash with the Python module '{module}'; choose another")
    # Every installed plugin, whatever GENBENCH_DISABLE_PLUGIN_AUTOLOAD says in this shell: the new
    # package will be installed beside them, and a name one of them has would clash.
    registry = Registry.discover(autoload=True)
    for kind, names in (("model", registry.models), ("dataset", registry.datasets)):
        if name in names:
            raise UserError(f"an installed plugin already has a {kind} called {name!r}; choose another name")
    if (parent / name).exists():
        raise UserError(f"{parent / name} already exists; choose another name or remove it")


def render(template: str, name: str) -> str:
    """``template`` with the plugin's names filled in."""
    for token, value in (
        ("__MODULE__", module_name(name)),
        ("__CLASS__", class_stem(name)),
        ("__NAME__", name),
        ("__GENBENCH__", API_FIRST_RELEASE[API_VERSION]),
    ):
        template = template.replace(token, value)
    return template


# The templates: each file under templates/ is one file of the new package, at the same relative path
# without its ``.tmpl`` suffix (which keeps linters and pytest off them here). In paths and text,
# ``__NAME__`` is the plugin's distribution, model and dataset name, ``__MODULE__`` its import name,
# ``__CLASS__`` the stem of its class names and ``__GENBENCH__`` the oldest genbench with its plugin API.
# The model and the dataset pass genbench's contract as written (tests/test_scaffold.py runs the
# generated tests), so a new plugin starts from working code and changes one piece at a time.
TEMPLATES = resources.files("genbench.cli") / "templates"
SUFFIX = ".tmpl"


def templates(folder: Traversable = TEMPLATES, prefix: str = "") -> Iterator[tuple[str, str]]:
    """Every template as (path relative to the new package, text), in a stable order."""
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.is_dir():
            yield from templates(entry, f"{prefix}{entry.name}/")
        elif entry.name.endswith(SUFFIX):
            yield f"{prefix}{entry.name.removesuffix(SUFFIX)}", entry.read_text()


def write_plugin(name: str, parent: Path) -> Path:
    """Write the plugin package ``parent/name`` and return its folder; nothing is written when the
    name is refused (see :func:`check_name`)."""
    check_name(name, parent)
    folder = parent / name
    for relative, template in templates():
        path = folder / render(relative, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(template, name))
    return folder
