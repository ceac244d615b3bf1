"""Figures of one run: sample grids, the progress strip and interpolations drawn from a model
(``pictures``), and curves drawn from its training log (``curves``). Shared drawing helpers for the
comparison plots live in ``curves``."""
