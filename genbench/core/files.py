"""Files genbench writes and reads back: every write goes through a temporary file and a rename, so a
reader never sees half a file and a crash leaves the previous version intact."""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import torch


def atomic_write(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write ``path`` through a temporary file in the same folder and rename it into place, so a
    reader never sees a half-written file and a crash leaves the previous version intact."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp's 0600 would hide results from the rest of a team.
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as error:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(error, OSError) and error.filename is None:
            error.filename = str(path)  # A failed write() names no file; say which one it was.
        raise


def _umask() -> int:
    """The process's umask (reading it means setting it: set it straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    atomic_write(path, lambda f: f.write(text.encode()))


def atomic_write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON to ``path`` atomically."""
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def atomic_torch_save(path: Path, obj: Any) -> None:
    """``torch.save`` to ``path`` atomically."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    atomic_write(path, lambda f: f.write(buffer.getvalue()))


def read_json(path: Path) -> Any:
    """Load a JSON file."""
    return json.loads(path.read_text())


def read_jsonl(path: Path, skipped: list[int] | None = None) -> list[dict[str, Any]]:
    """The rows (JSON objects) of a JSONL log. A line that is not one (cut short by a crash, damaged,
    binary garbage) is skipped, its 1-based number appended to ``skipped``; the rows after it stay."""
    rows = []
    for number, line in enumerate(path.read_bytes().splitlines(), start=1):
        try:
            row = json.loads(line.decode())
        except (UnicodeDecodeError, json.JSONDecodeError):
            row = None
        if isinstance(row, dict):
            rows.append(row)
        elif skipped is not None and line.strip():
            skipped.append(number)
    return rows


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def remove_temporaries(folder: Path, name: str = "*") -> int:
    """Delete the temporary files interrupted atomic writes of ``name`` (default: any file) left in
    ``folder``; the caller holds the lock that keeps other writers out. Returns how many went."""
    removed = 0
    for path in folder.glob(f".{name}.*.tmp"):
        try:
            path.unlink()
            removed += 1
        except OSError:  # A read-only folder keeps them; nothing reads them.
            pass
    return removed


READ_ONLY_ERRNOS = (errno.EROFS, errno.EACCES, errno.EPERM)


def is_read_only(error: BaseException) -> bool:
    """Whether ``error`` says a file or folder cannot be written (read-only file system, permissions)."""
    return isinstance(error, OSError) and error.errno in READ_ONLY_ERRNOS
