"""The environment variables that set defaults of a run: where data and caches live, whether to
download, which Inception weights to use, whether installed plugins are loaded."""

from __future__ import annotations

import os
from pathlib import Path

from genbench.options.flags import env_flag

DATA_ROOT_ENV = "GENBENCH_DATA_ROOT"
CACHE_DIR_ENV = "GENBENCH_CACHE_DIR"
NO_DOWNLOAD_ENV = "GENBENCH_NO_DOWNLOAD"
FID_WEIGHTS_ENV = "GENBENCH_FID_WEIGHTS"
DISABLE_PLUGIN_AUTOLOAD_ENV = "GENBENCH_DISABLE_PLUGIN_AUTOLOAD"


def default_cache_dir() -> Path | None:
    """``GENBENCH_CACHE_DIR`` if set (one cache shared by several output folders), else None."""
    env = os.environ.get(CACHE_DIR_ENV)
    return Path(env) if env else None


def default_fid_weights() -> Path | None:
    """``GENBENCH_FID_WEIGHTS`` if set: a local Inception weights file in torch-fidelity's format."""
    env = os.environ.get(FID_WEIGHTS_ENV)
    return Path(env) if env else None


def default_data_root() -> Path:
    """``GENBENCH_DATA_ROOT`` if set (``~`` expanded), else a per-user cache folder."""
    env = os.environ.get(DATA_ROOT_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "genbench" / "data"


def plugin_autoload() -> bool:
    """Whether to load the plugins installed under genbench's entry points: yes unless
    ``GENBENCH_DISABLE_PLUGIN_AUTOLOAD`` is 1, true, yes or on. Unset, empty, 0, false, no and off leave
    them on; any other value is a one-line :class:`~genbench.errors.UserError` (:func:`env_flag`)."""
    return not env_flag(DISABLE_PLUGIN_AUTOLOAD_ENV)
