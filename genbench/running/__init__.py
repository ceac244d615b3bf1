"""Running: the sweep over (dataset, model, seed) (``sweep``), one run from its folder to its record
(``single_run``), a run as a job (``jobs``) done here or on a Ray cluster (``executor``, ``ray_executor``,
``ray_task``), the training loop (``training``), resume checkpoints (``resume``), signals
(``interrupts``) and the device (``device``). The only layer that builds models and calls evaluation,
figures and results. Minibatches served from the device (``genbench.core.batches``) are shared with
evaluation's reference classifier, so they sit at the top."""
