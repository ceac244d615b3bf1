"""Evaluation: scoring generated images against real ones. ``evaluate`` samples a model and fills the
metric columns of :mod:`genbench.core.metrics`; ``fidelity`` runs torch-fidelity's metric code with
``inception`` weights or the dataset's reference ``classifier``; ``divergence`` trains the fixed
JSD/W1 estimators; ``floor`` scores real data like a model. Imports nothing from running or results
but the record files it writes."""
