"""Options: what a ``genbench run`` is asked to do. Every option is declared once, as a field of
:class:`~genbench.options.config.RunOptions` (``config``; what a declaration says: ``declaration``);
the command line (``command_line``), suite files (``suite``), per-model hyperparameter overrides
(``overrides``) and the run identity (``identity``) are derived from it. The result is one validated,
frozen ``RunOptions``. Imports nothing from running, evaluation or results."""
