"""The environment variables that set defaults of a run: where data and caches live, whether to
download, which Inception weights to use, whether installed plugins are loaded, whether to capture
CUDA graphs.

A variable that is set must say something: set but empty (or blank) is refused in one line, as
``--out ''`` is, rather than read as unset (``export GENBENCH_CACHE_DIR=$TYPO`` would otherwise put
the cache somewhere else without a word).
"""

from __future__ import annotations

import os
from pathlib import Path

from genbench.errors import UserError
from genbench.options.flags import env_flag, parse_flag

DATA_ROOT_ENV = "GENBENCH_DATA_ROOT"
CACHE_DIR_ENV = "GENBENCH_CACHE_DIR"
NO_DOWNLOAD_ENV = "GENBENCH_NO_DOWNLOAD"
FID_WEIGHTS_ENV = "GENBENCH_FID_WEIGHTS"
DISABLE_PLUGIN_AUTOLOAD_ENV = "GENBENCH_DISABLE_PLUGIN_AUTOLOAD"
CAPTURE_ENV = "GENBENCH_CAPTURE"  # 0 (or false, no, off) turns CUDA graph capture off.


def env_value(name: str) -> str | None:
    """The variable ``name``; None when unset; a one-line :class:`UserError` when set but blank."""
    value = os.environ.get(name)
    if value is not None and not value.strip():
        raise UserError(
            f"{name} is set but empty; unset it (unset {name}) for the default, or give it a value"
        )
    return value


def default_cache_dir() -> Path | None:
    """``GENBENCH_CACHE_DIR`` if set (one cache shared by several output folders), else None."""
    env = env_value(CACHE_DIR_ENV)
    return Path(env).expanduser() if env else None


def default_fid_weights() -> Path | None:
    """``GENBENCH_FID_WEIGHTS`` if set: a local Inception weights file in torch-fidelity's format."""
    env = env_value(FID_WEIGHTS_ENV)
    return Path(env).expanduser() if env else None


def default_data_root() -> Path:
    """``GENBENCH_DATA_ROOT`` if set (``~`` expanded), else a per-user cache folder."""
    env = env_value(DATA_ROOT_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "genbench" / "data"


def plugin_autoload() -> bool:
    """Whether to load the plugins installed under genbench's entry points: yes unless
    ``GENBENCH_DISABLE_PLUGIN_AUTOLOAD`` is 1, true, yes or on. Unset, 0, false, no and off leave them
    on; set but empty, or any other value, is a one-line :class:`~genbench.errors.UserError`
    (:func:`env_flag`)."""
    return not env_flag(DISABLE_PLUGIN_AUTOLOAD_ENV)


def capture_allowed() -> bool:
    """Whether ``GENBENCH_CAPTURE`` lets a capturable model's step run as a CUDA graph (unset: yes)."""
    value = env_value(CAPTURE_ENV)
    return True if value is None else parse_flag(value, CAPTURE_ENV)
