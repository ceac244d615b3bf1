"""``genbench new-plugin NAME [--package PACKAGE]``: a ready plugin package in a new folder ``PACKAGE/``.

``NAME`` is what users type after ``--models`` and ``--data`` (the scaffold's model and dataset are
both called that); ``PACKAGE``, by default ``genbench-NAME`` as docs/plugins.md section 8 advises, is
the distribution, its folder and, with ``-`` as ``_``, its import package. The package has a pyproject
with the ``genbench`` entry point and the genbench dependency, a model and a dataset that pass
genbench's contract as written, a test file running that contract, and a README (the files under
``genbench/cli/templates/``, package data). It installs with ``pip install -e PACKAGE`` and runs with
``genbench run --models NAME --data NAME``.
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
API_FIRST_RELEASE = {"1.0": "0.1", "1.1": "0.3", "1.2": "0.4", "1.3": "0.5"}

# A model / dataset name, and a distribution name: lowercase letters, digits, '-' and '_', starting with a
# letter (class names and the import name are made from them), not ending with a separator.
_NAME_RE = re.compile(r"^[a-z][a-z0-9_-]*$")
MAX_NAME_LENGTH = 64  # It names a model, a dataset and classes: long names help no one.
PACKAGE_PREFIX = "genbench-"  # Section 8 of docs/plugins.md: users find plugins by it.
MAX_PACKAGE_LENGTH = MAX_NAME_LENGTH + len(PACKAGE_PREFIX)  # The default package fits whenever NAME does.


def default_package(name: str) -> str:
    """The distribution name of plugin ``name`` when none is given: ``my-gan`` -> ``genbench-my-gan``."""
    return f"{PACKAGE_PREFIX}{name}"


def module_name(package: str) -> str:
    """The import name of distribution ``package``: ``genbench-my-gan`` -> ``genbench_my_gan``."""
    return package.replace("-", "_")


def class_stem(name: str) -> str:
    """The stem of the plugin's class names: ``my-gan`` -> ``MyGan``."""
    return "".join(part.capitalize() for part in re.split(r"[-_]+", name) if part)


def _check_form(what: str, value: str, limit: int, example: str) -> None:
    """Refuse ``value`` (``what`` names it in the message) when too long or not of the allowed form."""
    if len(value) > limit:
        raise UserError(f"{what} {value[:20]}… is {len(value)} characters; use at most {limit}")
    if not _NAME_RE.match(value) or value.endswith(("-", "_")):
        raise UserError(
            f"{what} {value!r} is not valid: use lowercase letters, digits, '-' and '_', starting "
            f"with a letter (e.g. {example})"
        )


def check_names(name: str, package: str, parent: Path) -> None:
    """Refuse a model / dataset ``name`` that is malformed or that an installed plugin already has, and
    a ``package`` that cannot be a distribution and module, whose module is importable already, or
    whose folder exists in ``parent``; each with a one-line :class:`UserError`."""
    _check_form("plugin name", name, MAX_NAME_LENGTH, "my-gan")
    _check_form("package name", package, MAX_PACKAGE_LENGTH, "genbench-my-gan")
    module = module_name(package)
    if keyword.iskeyword(module):
        raise UserError(f"package name {package!r} is a Python keyword, not a module name; choose another")
    if importlib.util.find_spec(module) is not None:
        raise UserError(
            f"package name {package!r} would clash with the Python module '{module}'; choose another"
        )
    # Every installed plugin, whatever GENBENCH_DISABLE_PLUGIN_AUTOLOAD says in this shell: the new
    # package will be installed beside them, and a name one of them has would clash.
    registry = Registry.discover(autoload=True)
    for kind, names in (("model", registry.models), ("dataset", registry.datasets)):
        if name in names:
            raise UserError(f"an installed plugin already has a {kind} called {name!r}; choose another name")
    if (parent / package).exists():
        raise UserError(f"{parent / package} already exists; choose another --package or remove it")


def render(template: str, name: str, package: str) -> str:
    """``template`` with the plugin's names filled in."""
    for token, value in (
        ("__MODULE__", module_name(package)),
        ("__PACKAGE__", package),
        ("__CLASS__", class_stem(name)),
        ("__NAME__", name),
        ("__GENBENCH__", API_FIRST_RELEASE[API_VERSION]),
    ):
        template = template.replace(token, value)
    return template


# The templates: each file under templates/ is one file of the new package, at the same relative path
# without its ``.tmpl`` suffix (which keeps linters and pytest off them here). In paths and text,
# ``__NAME__`` is the plugin's model and dataset name, ``__PACKAGE__`` its distribution name,
# ``__MODULE__`` its import name, ``__CLASS__`` the stem of its class names and ``__GENBENCH__`` the
# oldest genbench with its plugin API.
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


def write_plugin(name: str, parent: Path, package: str | None = None) -> Path:
    """Write the plugin package ``parent/PACKAGE`` (``package``, by default ``genbench-NAME``) whose
    model and dataset are called ``name``, and return its folder; nothing is written when a name is
    refused (see :func:`check_names`)."""
    package = default_package(name) if package is None else package
    check_names(name, package, parent)
    folder = parent / package
    for relative, template in templates():
        path = folder / render(relative, name, package)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(template, name, package))
    return folder
