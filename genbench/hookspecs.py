"""The hooks a genbench plugin implements. Entry point group: ``genbench``.

A plugin is a module (or object) with functions marked ``@hookimpl``::

    from genbench import hookimpl

    @hookimpl
    def register_models():
        return [MyGAN]

Models, datasets and trackers (:mod:`genbench.tracking`) are registered alike.
"""

from __future__ import annotations

from collections.abc import Iterable

import pluggy

from genbench.api import Dataset, Model
from genbench.tracking import Tracker

PROJECT_NAME = "genbench"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def register_models() -> Iterable[type[Model]]:
    """Return the model classes this plugin provides."""


@hookspec
def register_datasets() -> Iterable[type[Dataset]]:
    """Return the dataset classes this plugin provides."""


@hookspec
def register_trackers() -> Iterable[type[Tracker]]:
    """Return the tracker classes this plugin provides (``genbench run --track NAME``)."""
