"""Temporarily switching a module to eval mode, for sampling and held-out estimates: genbench's own
:func:`genbench.modes.eval_mode`, the one the runner's pictures use, offered to plugins here."""

from __future__ import annotations

from genbench.modes import eval_mode

__all__ = ["eval_mode"]
