"""``best.pt``: the weights of the best cheap metric so far, and whether a resumed run may trust them.

A resume checkpoint is written every few kimg; the best weights are replaced whenever the cheap metric
improves, which may happen after the last checkpoint. So the checkpoint cannot hold the SHA-256 of
``best.pt`` alone: two checksums vouch for it. The checkpoint records the SHA-256 ``best.pt`` had when
it was written, and every save records the SHA-256 of the new weights beside them (``best.pt.sha256``)
before writing them. A resumed run keeps ``best.pt`` when its bytes match either: the checkpoint's (a
save cut short before its weights landed) or the one beside it (a later best, which the replayed steps
reach again and write anew). Anything else is damage: other valid weights, a flipped bit inside the
tensor data (which ``torch.load`` cannot see), a truncated file.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import torch

from genbench.core.checked_cache import digest_path, sha256_of
from genbench.core.files import atomic_write, atomic_write_text, file_sha256
from genbench.running.resume import loads


def save_best(path: Path, state: dict[str, Any]) -> str:
    """Write ``state`` (a model's checkpoint state) to ``path`` atomically, its SHA-256 recorded beside
    it first (so a save cut short leaves the previous weights, which the checkpoint vouches for);
    returns the SHA-256."""
    buffer = io.BytesIO()
    torch.save({"model": state}, buffer)
    data = buffer.getvalue()
    sha256 = sha256_of(data)
    atomic_write_text(digest_path(path), sha256 + "\n")
    atomic_write(path, lambda f: f.write(data))
    return sha256


def vouched_sha256(path: Path) -> str | None:
    """What a resume checkpoint records of ``best.pt``: its SHA-256 now, None where there is none."""
    return file_sha256(path) if path.is_file() else None


def best_problem(path: Path, checkpoint_sha256: str | None) -> str | None:
    """Why a resumed run may not keep ``path`` as its best weights, None where it may: its bytes match
    the SHA-256 the checkpoint recorded or the one recorded beside it. A checkpoint written before
    these were recorded (both None) falls back to whether the file loads."""
    try:
        beside = digest_path(path).read_text().strip() if digest_path(path).is_file() else None
    except (OSError, UnicodeDecodeError):
        beside = None  # An unreadable record vouches for nothing; the checkpoint's may still.
    vouched = {sha for sha in (checkpoint_sha256, beside) if sha}
    if not vouched:
        return None if loads(path) else "is missing or damaged"
    try:
        actual = file_sha256(path)
    except FileNotFoundError:
        return "is missing"
    except OSError as error:
        return f"is unreadable ({error.strerror or error})"
    return None if actual in vouched else "does not match the SHA-256 recorded for the best weights"
