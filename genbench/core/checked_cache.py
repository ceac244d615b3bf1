"""Checked caches: what genbench computes once and keeps, but never trusts blindly: the reference
classifier, the real-data floor, torch-fidelity's statistics and a run's resume checkpoints. All four
follow one scheme:

- an entry is named by a hash of everything that affects it (:mod:`genbench.core.hashing`), so changed
  inputs are a miss, never a stale hit;
- it is written atomically (:mod:`genbench.core.files`) and the SHA-256 of its bytes is recorded;
- it is checked against that SHA-256 when read (:func:`check_digest`, :func:`check_bytes`);
- damage (a part missing or unreadable, other bytes, another entry's content) is one line through
  ``warn`` and the entry is computed again (:func:`load_checked`).

Where the SHA-256 is recorded depends on who writes the entry: beside the file, in ``<file>.sha256``
(:func:`write_digest`: floors, and torch-fidelity's statistics, which torch-fidelity writes without
one); in the entry's own record (the classifier, whose weights' hash is also part of every run id); or
inside the file (resume checkpoints, renamed into place together with their digest).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from genbench.core.files import atomic_write_text, file_sha256, remove_damaged
from genbench.errors import one_line

T = TypeVar("T")

DIGEST_SUFFIX = ".sha256"
_REASON_CHARS = 200  # Damage is said in one line, whatever the error's message.


class Damaged(ValueError):
    """An entry that exists but cannot be trusted; the message says why, in a few words. A ValueError,
    like the errors of reading damaged JSON."""


def sha256_of(data: bytes) -> str:
    """The SHA-256 of ``data`` (hex)."""
    return hashlib.sha256(data).hexdigest()


def check_bytes(data: bytes, sha256: object) -> None:
    """Raise :class:`Damaged` unless ``data`` has the SHA-256 ``sha256``."""
    if sha256_of(data) != sha256:
        raise Damaged("its SHA-256 does not match its content")


def digest_path(path: Path) -> Path:
    """Where :func:`write_digest` records the SHA-256 of ``path``."""
    return path.with_name(path.name + DIGEST_SUFFIX)


def write_digest(path: Path) -> str:
    """Record the SHA-256 of the file ``path`` beside it (atomically); returns it."""
    sha256 = file_sha256(path)
    atomic_write_text(digest_path(path), sha256 + "\n")
    return sha256


def check_digest(path: Path, sha256: str | None = None) -> bool:
    """Check the file ``path`` against the SHA-256 ``sha256``, or else the one recorded beside it:
    :class:`Damaged` when its bytes differ or it cannot be read. False where there is nothing to check
    against (a file written before its digest was recorded); True when it was checked."""
    if sha256 is None:
        try:
            sha256 = digest_path(path).read_text().strip()
        except FileNotFoundError:
            return False
        except (OSError, UnicodeDecodeError) as error:
            raise Damaged(f"{digest_path(path).name} is unreadable ({one_line(error)})") from error
    try:
        actual = file_sha256(path)
    except FileNotFoundError as error:
        raise Damaged(f"{path.name} is missing") from error
    except OSError as error:
        raise Damaged(f"{path.name} is unreadable ({error.strerror or error})") from error
    if actual != sha256:
        raise Damaged(f"{path.name} does not match its recorded SHA-256")
    return True


def remove(path: Path) -> None:
    """Delete a cached file and its recorded SHA-256 (either may be missing already; an empty folder
    in the file's place goes too, as damage)."""
    remove_damaged(path)
    digest_path(path).unlink(missing_ok=True)


def load_checked(what: str, load: Callable[[], T], warn: Callable[[str], None], then: str) -> T | None:
    """``load()`` (which reads and checks an entry), or None when it fails: the entry is damaged, and
    ``warn`` hears one line, ``<what> is damaged (<why>); <then>``, ``then`` saying what happens next
    ("computing it again")."""
    try:
        return load()
    except Exception as error:  # Whatever a damaged file makes a reader raise: JSON, pickle, zip, EOF.
        why = str(error) if isinstance(error, Damaged) else one_line(error, _REASON_CHARS)
        warn(f"{what} is damaged ({why}); {then}")
        return None
