"""Getting dataset files into place: atomic extraction, quiet torchvision downloads, one-line errors.

Extraction writes to a temporary name next to the target and renames it, so an interrupted run never
leaves a truncated file that a later run would take for a complete one.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import io
import os
import shutil
import tarfile
import tempfile
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

from genbench.errors import DataNotFoundError

# Errors of a damaged archive: a truncated gzip stream is an EOFError, a bad header a BadGzipFile (an
# OSError), a damaged deflate stream a zlib.error. Other OSErrors are about the disk we write to.
_DAMAGED = (EOFError, gzip.BadGzipFile, zlib.error, tarfile.TarError)
_EXTRACT_ERRORS = (OSError, *_DAMAGED)
_REASON_CHARS = 200


def short_reason(error: BaseException) -> str:
    """The last non-empty line of an error's message (torchvision's are several lines long), clipped."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    reason = lines[-1] if lines else type(error).__name__
    return reason if len(reason) <= _REASON_CHARS else reason[: _REASON_CHARS - 1] + "…"


def gunzip_atomic(source: Path, target: Path, owner: str) -> None:
    """Decompress ``source`` (a ``.gz`` file) to ``target``; a user error naming the file if it fails."""
    partial = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with gzip.open(source, "rb") as src, partial.open("wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        os.replace(partial, target)
    except _EXTRACT_ERRORS as error:
        partial.unlink(missing_ok=True)
        if _unwritable(error, source):
            raise DataNotFoundError(
                f"{owner}: cannot extract {source}: {target.parent} is not writable; make it writable, "
                "extract the .gz files there yourself (gunzip -k), or copy the folder somewhere writable "
                "and pass --data-root"
            ) from error
        raise DataNotFoundError(
            f"{owner}: cannot extract {source} to {target} ({short_reason(error)}){_advice(error, source)}"
        ) from error


def extract_folder_atomic(archive: Path, root: Path, folder: str, owner: str) -> None:
    """Extract ``folder/`` of the tar ``archive`` into ``root``, each file moved into place whole."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=root, prefix=".extract-") as scratch:
            with tarfile.open(archive) as tar:
                # The "data" filter refuses absolute paths and links out of the folder (Python >= 3.10.12).
                extra = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
                tar.extractall(scratch, **extra)
            extracted = Path(scratch) / folder
            if not extracted.is_dir():
                raise DataNotFoundError(f"{owner}: {archive} does not contain a '{folder}' folder")
            (root / folder).mkdir(exist_ok=True)
            for path in extracted.iterdir():
                os.replace(path, root / folder / path.name)
    except _EXTRACT_ERRORS as error:
        raise DataNotFoundError(
            f"{owner}: cannot extract {archive} into {root} ({short_reason(error)}){_advice(error, archive)}"
        ) from error


def _unwritable(error: BaseException, source: Path) -> bool:
    """Whether ``error`` is a refusal to write (a read-only or foreign folder), not to read ``source``."""
    refused = (errno.EACCES, errno.EPERM, errno.EROFS)
    return isinstance(error, OSError) and error.errno in refused and error.filename != str(source)


def _advice(error: BaseException, archive: Path) -> str:
    # A damaged archive must be replaced; a disk error (permissions, space) speaks for itself.
    return f"; replace or delete {archive}" if isinstance(error, _DAMAGED) else ""


def quiet_download(fetch: Callable[[], object]) -> str | None:
    """Run a torchvision download without its stdout prints; None on success, else the short reason."""
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            fetch()
    except Exception as error:  # Network, HTTP, checksum or disk: all mean "not downloaded", say why.
        return short_reason(error)
    return None


def download_note(enabled: bool, reason: str | None) -> str:
    """How the download went, for :func:`not_found`: off, failed (with the reason) or came back short."""
    if not enabled:
        return "downloading is off (GENBENCH_NO_DOWNLOAD)"
    return f"download failed: {reason}" if reason else "the download did not provide them"


def not_found(
    owner: str, looked_in: Sequence[Path], missing: Sequence[str], download: str, remedies: Sequence[str]
) -> DataNotFoundError:
    """The one-line error for absent data: where it looked, what is missing, the download, the fixes."""
    places = " and ".join(str(p) for p in looked_in)
    return DataNotFoundError(
        f"dataset '{owner}' not found: looked in {places} (missing {', '.join(missing)}; {download}); "
        f"to provide it, {'; or '.join(remedies)}"
    )
