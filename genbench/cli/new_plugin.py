"""``genbench new-plugin NAME``: a ready plugin package in a new folder ``NAME/``.

The package has a pyproject with the ``genbench`` entry point and the genbench dependency, a model and
a dataset that pass genbench's contract as written, a test file running that contract, and a README
(templates: :mod:`genbench.cli.templates`). It installs with ``pip install -e NAME`` and runs with
``genbench run --models NAME --data NAME``.
"""

from __future__ import annotations

import importlib.util
import keyword
import re
from pathlib import Path

from genbench import __version__
from genbench.cli.templates import FILES
from genbench.core.registry import Registry
from genbench.errors import UserError

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
    registry = Registry.discover()
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
        ("__GENBENCH__", __version__),
    ):
        template = template.replace(token, value)
    return template


def write_plugin(name: str, parent: Path) -> Path:
    """Write the plugin package ``parent/name`` and return its folder; nothing is written when the
    name is refused (see :func:`check_name`)."""
    check_name(name, parent)
    folder = parent / name
    for relative, template in FILES.items():
        path = folder / render(relative, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(template, name))
    return folder
