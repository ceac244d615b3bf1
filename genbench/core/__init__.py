"""Shared internals of the pipeline: the plugin registry, the run record, files and folder layout,
images and batches, the metric table and the progress sinks. Plugins never import these."""
