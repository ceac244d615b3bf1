"""torch-fidelity's cache of reference features and statistics, checked: a cached file whose bytes
changed since genbench first used it, or that does not load, is deleted so that torch-fidelity
computes it again; a full disk under the cache is the one-line full-disk error.

torch-fidelity writes its files (``<cache name>-...pt``) without a checksum; genbench records the
SHA-256 of each the first time it sees it, in ``<cache name>.sha256.json`` beside them.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import torch

from genbench.core.files import atomic_write_json, file_sha256, read_json

T = TypeVar("T")


def _manifest(cache_root: Path, name: str) -> Path:
    return cache_root / f"{name}.sha256.json"


def _files(cache_root: Path, name: str) -> list[Path]:
    return sorted(cache_root.glob(f"{name}-*.pt"))


def _digests(cache_root: Path, name: str) -> dict[str, str]:
    try:
        digests = read_json(_manifest(cache_root, name))
    except (OSError, ValueError):  # Missing or damaged: the files are checked by loading instead.
        return {}
    return digests if isinstance(digests, dict) else {}


def drop_damaged(cache_root: Path, name: str) -> list[str]:
    """Delete the cached files of ``name`` that differ from their recorded SHA-256; returns them."""
    digests = _digests(cache_root, name)
    dropped = []
    for path in _files(cache_root, name):
        if path.name in digests and file_sha256(path) != digests[path.name]:
            path.unlink(missing_ok=True)
            dropped.append(path.name)
    return dropped


def drop_unloadable(cache_root: Path, name: str) -> list[str]:
    """Delete the cached files of ``name`` that do not load; returns them."""
    dropped = []
    for path in _files(cache_root, name):
        try:
            torch.load(path, map_location="cpu", weights_only=False)
        except Exception:  # Truncated, garbage, not a torch file.
            path.unlink(missing_ok=True)
            dropped.append(path.name)
    return dropped


def record_digests(cache_root: Path, name: str) -> None:
    """Record the SHA-256 of cached files of ``name`` not recorded yet (the first time genbench sees
    them, just after torch-fidelity wrote or read them)."""
    digests = _digests(cache_root, name)
    new = {p.name: file_sha256(p) for p in _files(cache_root, name) if p.name not in digests}
    if new:
        atomic_write_json(_manifest(cache_root, name), {**digests, **new})


@contextmanager
def full_disk_as_os_error(cache_root: Path) -> Iterator[None]:
    """torch's "file write failed" while torch-fidelity saves its cache is a full disk: raise it as
    the ``OSError`` (ENOSPC) that genbench turns into its one-line message."""
    try:
        yield
    except RuntimeError as error:
        if "write" not in str(error).lower():
            raise
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(cache_root)) from error


def checked(cache_root: Path, name: str | None, compute: Callable[[], T]) -> T:
    """``compute()`` (a torch-fidelity call caching under ``name``) with its cache checked first; a
    cache that fails to load is deleted and ``compute`` tried once more."""
    if name is None:
        return compute()
    if cache_root.is_dir():
        drop_damaged(cache_root, name)
    try:
        with full_disk_as_os_error(cache_root):
            result = compute()
    except OSError:
        raise
    except Exception:
        if not drop_unloadable(cache_root, name):
            raise
        with full_disk_as_os_error(cache_root):
            result = compute()
    try:
        record_digests(cache_root, name)
    except OSError as error:  # A read-only cache is still used; only a full disk is the user's to fix.
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            raise
    return result
