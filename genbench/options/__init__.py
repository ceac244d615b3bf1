"""Options: what a ``genbench run`` is asked to do. Every option is declared once (``config``), read
from the command line or a suite file (``suite``), with per-model hyperparameter overrides
(``overrides``); the result is one validated, frozen :class:`~genbench.options.config.RunOptions`.
Imports nothing from running, evaluation or results."""
