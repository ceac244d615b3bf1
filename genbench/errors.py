"""Errors a user can fix. The CLI prints their message on one line and exits with code 2."""

from __future__ import annotations


class UserError(Exception):
    """A mistake the user can fix (unknown name, bad value, missing data): one line, exit code 2."""


class UnknownNameError(UserError):
    """A model or dataset name that no installed plugin registers."""


class PluginConflictError(UserError):
    """Two plugins register the same name."""


class DataNotFoundError(UserError):
    """A dataset's files are missing and could not be downloaded."""
