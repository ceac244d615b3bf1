"""Running: the sweep over (dataset, model, seed) (``sweep``), one run from its folder to its record
(``single_run``), the training loop (``training``), resume checkpoints (``resume``), signals
(``interrupts``), the device (``device``) and the minibatches served from it (``batches``). The only
layer that builds models and calls evaluation, figures and results."""
