"""Errors a user can fix (the CLI prints their message on one line and exits with code 2), the run's own
exceptions, and :func:`one_line`, the one way any error is written into a message."""

from __future__ import annotations

import errno


def one_line(error: BaseException, limit: int | None = None) -> str:
    """``error`` as one line for a message: ``Type: message``, white space (newlines included) folded,
    and cut to ``limit`` characters (ending in "…") where a message must stay short."""
    line = " ".join(f"{type(error).__name__}: {error}".split())
    if limit is not None and len(line) > limit:
        return line[: limit - 1] + "…"
    return line


class UserError(Exception):
    """A mistake the user can fix (unknown name, bad value, missing data): one line, exit code 2."""


class UnknownNameError(UserError):
    """A model or dataset name that no installed plugin registers."""


class PluginConflictError(UserError):
    """Two plugins register the same name."""


class DataNotFoundError(UserError):
    """A dataset's files are missing and could not be downloaded."""


class OutOfSpaceError(UserError):
    """The disk (or the user's quota) is full: the sweep stops; what is saved stays saved."""

    @classmethod
    def wrapping(cls, error: BaseException, kept: str = "") -> OutOfSpaceError | None:
        """The user-facing error for a full-disk ``OSError`` (``kept``: what the user keeps, in
        parentheses); None for any other error."""
        if not isinstance(error, OSError) or error.errno not in (errno.ENOSPC, errno.EDQUOT):
            return None
        where = f" writing {error.filename}" if error.filename else ""
        kept = f" ({kept})" if kept else ""
        return cls(f"no space left on device{where}: free some space and run the same command again{kept}")


class Diverged(Exception):
    """A logged scalar became NaN or infinite: the model diverged."""


class Interrupted(Exception):
    """Training stopped at a signal's request after saving a resume checkpoint."""

    saved = False  # Set where the signal stopped a run, whose resume checkpoints are on disk.
