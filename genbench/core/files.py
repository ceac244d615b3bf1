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

from genbench.core.hashing import stable_hash

SHA256_HEX_DIGITS = 64  # The whole SHA-256: a checksum, not a short name.


def atomic_write(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write ``path`` through a temporary file in the same folder and rename it into place, so a
    reader never sees a half-written file and a crash leaves the previous version intact."""
    path.parent.mkdir(parents=True, exist_ok=True)
    make_room(path)
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


def make_room(path: Path) -> None:
    """Clear the way for writing ``path`` where an empty folder took a file's place (a sync tool, a
    person: damage, found and said when the file was read). A folder with something in it is not
    genbench's to delete: an :class:`IsADirectoryError` naming it (the CLI's one line)."""
    if not path.is_dir() or path.is_symlink():
        return  # A file or a link is replaced by the rename itself.
    try:
        path.rmdir()
    except OSError as error:
        why = "a folder where genbench keeps a file; move it away and run the command again"
        raise IsADirectoryError(errno.EISDIR, why, str(path)) from error


def remove_damaged(path: Path) -> None:
    """Delete a damaged file of genbench's (or an empty folder or a link in its place)."""
    if path.is_dir() and not path.is_symlink():
        make_room(path)
    else:
        path.unlink(missing_ok=True)


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
    """The rows (JSON objects) of a JSONL log; none when it is missing or not a file (callers that
    must know say so: :func:`not_a_regular_file`). A line that is not one (cut short by a crash,
    damaged, binary garbage) is skipped, its 1-based number appended to ``skipped``; the rows after it
    stay."""
    try:
        data = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return []
    rows = []
    for number, line in enumerate(data.splitlines(), start=1):
        try:
            row = json.loads(line.decode())
        except (UnicodeDecodeError, json.JSONDecodeError):
            row = None
        if isinstance(row, dict):
            rows.append(row)
        elif skipped is not None and line.strip():
            skipped.append(number)
    return rows


CHECKSUM_KEY = "checksum"  # The key of a JSON record's own checksum (see :func:`with_checksum`).


def json_checksum(obj: dict[str, Any]) -> str:
    """The SHA-256 of a JSON object's content (without its own checksum), in a canonical form: a value
    read back from the file checks the same."""
    body = {key: value for key, value in obj.items() if key != CHECKSUM_KEY}
    return "sha256:" + stable_hash(body, SHA256_HEX_DIGITS)


def with_checksum(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` vouched for by the checksum of its content, so a changed digit is found when read."""
    return {**obj, CHECKSUM_KEY: json_checksum(obj)}


def checksum_problem(obj: dict[str, Any]) -> str | None:
    """What is wrong with a JSON object's own checksum: None when it matches (or it has none: the
    caller decides whether it needs one)."""
    recorded = obj.get(CHECKSUM_KEY)
    if recorded is None:
        return None
    if recorded != json_checksum(obj):
        return "its content does not match its checksum (a value was changed or damaged)"
    return None


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
NAME_MAX = 255  # Bytes in one file or folder name (Linux, macOS).
PATH_MAX = 4096  # Bytes in a whole path (Linux).


def is_read_only(error: BaseException) -> bool:
    """Whether ``error`` says a file or folder cannot be written (read-only file system, permissions)."""
    return isinstance(error, OSError) and error.errno in READ_ONLY_ERRNOS


def path_problem(path: Path) -> str | None:
    """Why ``path`` cannot name a file or folder at all (a name or the whole path too long, a NUL
    character), None when it can. Checked before anything asks the file system, which would raise."""
    raw = os.fsencode(path)
    if b"\0" in raw:
        return "contains a NUL character"
    if len(raw) >= PATH_MAX:
        return f"is too long ({len(raw):,} bytes; a path has at most {PATH_MAX - 1:,})"
    for part in Path(path).parts:
        if len(os.fsencode(part)) > NAME_MAX:
            size = len(os.fsencode(part))
            return f"has a name too long ({part[:16]}…: {size:,} bytes; a name has at most {NAME_MAX})"
    return None


def shown(path: Path | str, limit: int = 120) -> str:
    """``path`` for a one-line message: whole, or its start and end when longer than ``limit``."""
    text = str(path)
    return text if len(text) <= limit else f"{text[: limit // 2]}…{text[-limit // 3 :]}"


def not_a_folder(path: Path) -> str | None:
    """Why ``path`` is not a folder nor a place where one can be made (a file there or above it, a
    link to nothing, an unusable name), None when it is."""
    if (problem := path_problem(path)) is not None:
        return f"the path {problem}"
    for existing in (path, *path.parents):
        if existing.is_dir():
            return None
        if os.path.lexists(existing):
            what = "a link to nothing" if existing.is_symlink() and not existing.exists() else "a file"
            return f"{existing} is {what}, not a folder"
    return None


def unwritable(folder: Path) -> str | None:
    """Why files cannot be written in ``folder`` (or in the folder that would be made there), None when
    they can. A probe folder is made in the nearest existing folder and removed at once: permissions
    alone do not tell (root passes them; /proc, /sys and read-only mounts refuse root too)."""
    if (problem := not_a_folder(folder)) is not None:
        return problem
    existing = folder
    while not existing.is_dir():
        existing = existing.parent
    if not os.access(existing, os.W_OK):
        return f"{existing} cannot be written (read-only or no permission)"
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".genbench-probe-", dir=existing))
    except OSError as error:
        return f"{existing} cannot be written ({error.strerror or error})"
    return None


def not_a_regular_file(path: Path) -> str | None:
    """Why ``path``, which genbench expects to be one of its files, is not a regular file (a folder, a
    link to nothing, a device), None when it is or when nothing is there."""
    if not os.path.lexists(path):
        return None
    if path.is_symlink() and not path.exists():
        return "a link to nothing (dangling symlink), not a file"
    if path.is_dir():
        return "a folder, not a file"
    if not path.is_file():
        return "not a regular file"
    return None
