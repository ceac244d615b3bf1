"""``--track tensorboard``: TensorBoard event files in each run folder, so ``tensorboard --logdir
results/runs`` shows every run of a sweep, named by its folder (dataset-model-seedN-hash).

- Scalars: every ``train.jsonl`` row at its step (training images shown; TensorBoard writes 40000 as
  40k, which reads as kimg). Training scalars go under ``train/``; ``test/`` estimates and ``eval/``
  metrics keep their names. ``step``, ``kimg`` and ``seconds`` are the axes TensorBoard already has.
- Images: the fixed latents' samples (a row of the progress strip) at the start, at every tenth of
  the budget (where the cheap metric is evaluated, by default) and at the end; the whole progress strip
  and the final sample grid at the end.
- HParams: at the end, the run's configuration and label as hyperparameters, its final metrics as
  ``final/`` scalars and its status.

A resumed run opens a new event file in the same folder that tells TensorBoard to drop what the
stopped process logged after its checkpoint (``purge_step``), since the run logs it again: no step is
shown twice, none is missing. The package comes with ``pip install 'genbench[tensorboard]'``; it is
imported only when a run is tracked, so genbench works without it.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Mapping
from typing import Any

import torch

from genbench import RunEnd, TrackedRun, Tracker, UserError

AXES = ("step", "kimg", "seconds")  # Row keys TensorBoard shows as its own axes.
FLUSH_SECONDS = 10  # A live view lags at most this much; checkpoints flush at once.
LEFT_OUT = ("versions", "run_id")  # Not configuration: the software versions, the folder's name.
STATUS = {"finished": "STATUS_SUCCESS", "interrupted": "STATUS_RUNNING"}  # Others: STATUS_FAILURE.


class TensorBoardTracker(Tracker):
    """Event files in each run folder: scalars, pictures, HParams (tensorboard --logdir results/runs)."""

    name = "tensorboard"

    def __init__(self) -> None:
        self._writer: Any = None  # A torch SummaryWriter while a run is tracked.

    def check(self) -> None:
        """The tensorboard package is installed."""
        if importlib.util.find_spec("tensorboard") is None:
            raise UserError("needs the tensorboard package: pip install 'genbench[tensorboard]'")

    def start(self, run: TrackedRun) -> None:
        """Open an event file in the run folder; a resumed run hides what came after its checkpoint."""
        from torch.utils.tensorboard import SummaryWriter  # Only now: tensorboard is an optional extra.

        # Events at or after purge_step logged before this file was opened are dropped by TensorBoard:
        # the killed process's steps after the checkpoint, which this process logs again.
        purge = None if run.resumed_at is None else run.resumed_at + 1
        self._writer = SummaryWriter(str(run.folder), purge_step=purge, flush_secs=FLUSH_SECONDS)
        self._run = run
        if run.resumed_at is None:
            self._writer.add_text("run", f"{run.label} ({run.run_id})", 0)

    def log_row(self, step: int, row: Mapping[str, float]) -> None:
        """Each scalar of the row at ``step``, as one event (a row costs one protobuf, not one a key)."""
        from tensorboard.compat.proto.summary_pb2 import Summary

        values = [
            Summary.Value(tag=key if "/" in key else f"train/{key}", simple_value=float(value))
            for key, value in row.items()
            if key not in AXES
        ]
        self._writer.file_writer.add_summary(Summary(value=values), step)

    def log_images(self, step: int, images: Mapping[str, torch.Tensor]) -> None:
        """Each picture at ``step``."""
        for name, image in images.items():
            self._writer.add_image(f"pictures/{name}", image, step)

    def checkpointed(self, step: int) -> None:
        """Everything logged so far on disk: a run killed after this resumes from here."""
        self._writer.flush()

    def end(self, end: RunEnd) -> None:
        """Final metrics as ``final/`` scalars; configuration, label and status for HParams."""
        from torch.utils.tensorboard.summary import hparams

        writer, run, step = self._writer, self._run, end.step or 0
        metrics = {f"final/{name}": value for name, value in end.metrics.items() if value is not None}
        for tag, value in metrics.items():
            writer.add_scalar(tag, value, step)
        if end.status != "interrupted":  # A stopped run resumes: its session is not over.
            # Only the session's start and end: TensorBoard then lists the union of every run's
            # hyperparameters, where one run's experiment summary would impose its own on all.
            _, start, finish = hparams(hyperparameters(run), metrics)
            finish.value[0].metadata.plugin_data.content = _end_content(end)
            writer.file_writer.add_summary(start, step)
            writer.file_writer.add_summary(finish, step)
        writer.close()
        self._writer = None


def hyperparameters(run: TrackedRun) -> dict[str, Any]:
    """The run's configuration as flat ``a.b`` keys, with its label, less what is not configuration."""
    flat = {k: v for k, v in run.flat_config().items() if k.split(".")[0] not in LEFT_OUT}
    return {"label": run.label, **flat}


def _end_content(end: RunEnd) -> bytes:
    """The session end of HParams with the run's status and time."""
    from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2

    info = plugin_data_pb2.SessionEndInfo(
        status=api_pb2.Status.Value(STATUS.get(end.status, "STATUS_FAILURE")), end_time_secs=time.time()
    )
    data = plugin_data_pb2.HParamsPluginData(session_end_info=info, version=metadata.PLUGIN_DATA_VERSION)
    return data.SerializeToString()
