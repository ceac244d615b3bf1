"""The reference's k-NN radii for precision/recall, cached: they depend only on the reference features
and on how they are computed, yet torch-fidelity's ``prc`` computes them for every run (a quarter of its
distances: issue 22). genbench keeps them like its other checked caches
(:mod:`genbench.core.checked_cache`):

- an entry is named by a hash of everything the radii depend on: the features' SHA-256 (with their
  dtype and shape), the neighbourhood, the batch size, the device type, the dtype and torch's version
  (another version may compute distances in another order, and then other last bits);
- it is written atomically, ``<cache root>/prc-radii/<key>.pt``, holding its key beside the radii, with
  its SHA-256 recorded in ``<key>.pt.sha256``;
- when read, it is checked against that SHA-256 and its key; damage (other bytes, a file that does not
  load, another entry's content) is deleted and the radii computed again, silently as torch-fidelity's
  statistics in the same folder (:mod:`genbench.evaluation.statistics_cache`): the numbers are the same
  either way, since the cached radii are bitwise those computed.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

import torch

from genbench.core.checked_cache import Damaged, check_digest, remove, write_digest
from genbench.core.files import atomic_torch_save, not_a_regular_file
from genbench.core.hashing import stable_hash, tensor_sha256

FOLDER = "prc-radii"
VERSION = 1  # Bump when the radii's computation changes: earlier entries then go unread.
KEY_LENGTH = 16


def radii_key(features: torch.Tensor, neighbourhood: int, batch_size: int) -> str:
    """The name of the radii of ``features``: a hash of everything they depend on."""
    material = {
        "version": VERSION,
        "features_sha256": tensor_sha256(features.detach().cpu(), layout=True),
        "neighbourhood": neighbourhood,
        "batch_size": batch_size,
        "device": features.device.type,
        "dtype": str(features.dtype),
        "torch": torch.__version__,
    }
    return stable_hash(material, KEY_LENGTH)


def radii_path(cache_root: Path, key: str) -> Path:
    """Where the radii named ``key`` are kept under ``cache_root``."""
    return cache_root / FOLDER / f"{key}.pt"


def cached_radii(
    features: torch.Tensor,
    neighbourhood: int,
    batch_size: int,
    cache_root: Path | None,
    compute: Callable[[], torch.Tensor],
) -> torch.Tensor:
    """``compute()`` (the radii of ``features``), read from ``cache_root`` where an intact entry is
    there and written there otherwise (None: no cache). On ``features``' device."""
    if cache_root is None:
        return compute()
    key = radii_key(features, neighbourhood, batch_size)
    path = radii_path(cache_root, key)
    found = _read(path, key, len(features))
    if found is not None:
        return found.to(features.device)
    radii = compute()
    _write(path, key, radii)
    return radii


def _read(path: Path, key: str, count: int) -> torch.Tensor | None:
    """The radii kept at ``path`` for ``key`` (``count`` of them), or None: not there, or damaged and
    deleted."""
    if not path.exists() and not path.is_symlink():
        return None
    try:
        return _checked(path, key, count)
    except Exception:  # Damaged: other bytes, truncated, not a torch file, another entry's content.
        with suppress(OSError):  # A read-only cache keeps its damage; the radii are computed anyway.
            remove(path)
        return None


def _checked(path: Path, key: str, count: int) -> torch.Tensor:
    """The radii at ``path``, checked against their recorded SHA-256 and their key. An entry whose
    SHA-256 was not recorded yet (written just before a crash) is checked by its content alone, then
    recorded."""
    if (problem := not_a_regular_file(path)) is not None:
        raise Damaged(problem)
    recorded = check_digest(path)
    entry = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(entry, dict) or entry.get("key") != key:
        raise Damaged("another entry's radii")
    radii = entry.get("radii")
    if not isinstance(radii, torch.Tensor) or radii.shape != (count,):
        raise Damaged("no radii of these features")
    if not recorded:
        write_digest(path)
    return radii


def _write(path: Path, key: str, radii: torch.Tensor) -> None:
    """Keep ``radii`` at ``path`` with their key and SHA-256. A cache that cannot be written (read-only,
    full) only costs the next run the computation: the radii are still returned. (An entry whose
    SHA-256 could not be recorded is checked by its content when read.)"""
    with suppress(OSError):
        atomic_torch_save(path, {"key": key, "radii": radii.detach().cpu()})
        write_digest(path)
