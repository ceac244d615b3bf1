"""torch-fidelity's cache of reference features and statistics, checked: a cached file whose bytes
changed since genbench first used it, or that does not load, is deleted so that torch-fidelity
computes it again; a full disk under the cache is the one-line full-disk error.

torch-fidelity writes its files (``<cache name>-...pt``) without a checksum; genbench records the
SHA-256 of each the first time it sees it, beside it (``<file>.sha256``, as every checked cache does:
:mod:`genbench.core.checked_cache`).
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import torch

from genbench.core.checked_cache import check_digest, digest_path, remove, write_digest

T = TypeVar("T")


def _files(cache_root: Path, name: str) -> list[Path]:
    return sorted(cache_root.glob(f"{name}-*.pt"))


def drop_damaged(cache_root: Path, name: str) -> list[str]:
    """Delete the cached files of ``name`` that differ from their recorded SHA-256; returns them. A file
    with no SHA-256 recorded yet is left to :func:`drop_unloadable`."""
    return _drop(cache_root, name, check_digest)


def drop_unloadable(cache_root: Path, name: str) -> list[str]:
    """Delete the cached files of ``name`` that do not load; returns them."""
    return _drop(cache_root, name, lambda path: torch.load(path, map_location="cpu", weights_only=False))


def _drop(cache_root: Path, name: str, check: Callable[[Path], object]) -> list[str]:
    """Delete the cached files of ``name`` (with their recorded SHA-256) that ``check`` raises for."""
    dropped = []
    for path in _files(cache_root, name):
        try:
            check(path)
        except Exception:  # Damaged: other bytes, truncated, garbage, not a torch file.
            remove(path)
            dropped.append(path.name)
    return dropped


def record_digests(cache_root: Path, name: str) -> None:
    """Record the SHA-256 of cached files of ``name`` not recorded yet (the first time genbench sees
    them, just after torch-fidelity wrote or read them)."""
    for path in _files(cache_root, name):
        if not digest_path(path).exists():
            write_digest(path)


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
