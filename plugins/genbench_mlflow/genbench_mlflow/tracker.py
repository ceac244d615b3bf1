"""The MLflow tracker: a genbench run becomes an MLflow run.

- Params: the run's configuration (``config.json``) as flat ``a.b`` keys; tags ``genbench.run_id``,
  ``genbench.dataset``, ``genbench.model``, ``genbench.seed``; the run's name is its label.
- Metrics: every ``train.jsonl`` row at its step (training images shown), training scalars under
  ``train/``; at the end the final metrics under ``final/``.
- At the end: the status (FINISHED, FAILED, or KILLED for a run stopped by a signal) and the run
  folder's pictures, ``config.json`` and ``metrics.json`` as artifacts.

A resumed genbench run resumes the same MLflow run, found by its ``genbench.run_id`` tag, and skips
the points MLflow already holds: the steps the stopped process logged after its checkpoint come again,
and MLflow cannot forget a point, so each is logged once.

mlflow is imported only when a run is tracked: listing plugins stays fast.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from genbench import RunEnd, TrackedRun, Tracker, UserError
from genbench.errors import one_line

AXES = ("step", "kimg", "seconds")  # Row keys that are the axes, not metrics.
DEFAULT_EXPERIMENT = "genbench"
STATUS = {"finished": "FINISHED", "interrupted": "KILLED"}  # Failed and diverged runs: FAILED.
# How long a call may keep a run waiting on a server that stopped answering, unless the user set
# MLflow's own variables: a few seconds, then the tracker is dropped for the run, which goes on.
QUICK_REQUESTS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_TIMEOUT": "20"}
CHECK_REQUESTS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "10"}
PARAMS_PER_CALL = 100  # MLflow's limit for one log_batch.
ARTIFACTS = ("config.json", "metrics.json")  # Besides the pictures (*.png).


class MLflowTracker(Tracker):
    """Each run as an MLflow run: params, metric series, final metrics, pictures (MLFLOW_TRACKING_URI)."""

    name = "mlflow"

    def __init__(self) -> None:
        import mlflow

        # Resolved here, in the process that leads the sweep: Ray workers get a copy of this tracker,
        # so they log where the driver would, whatever their own environment says.
        self.uri = mlflow.get_tracking_uri()
        self.experiment = os.environ.get("MLFLOW_EXPERIMENT_NAME") or DEFAULT_EXPERIMENT
        self.experiment_id: str | None = None
        # While a run is tracked (never pickled: a Ray task gets the tracker before any run starts).
        self._mlflow: Any = None  # Its MlflowClient.
        self._run_id: str | None = None
        self._folder: Path | None = None
        self._logged: Counter[tuple[str, int]] = Counter()  # (key, step) -> points MLflow already has.

    def check(self) -> None:
        """The tracking server answers; the experiment exists (made if missing)."""
        try:
            with _requests(CHECK_REQUESTS):
                self.experiment_id = self._experiment_id()
        except Exception as error:  # Whatever the store raises: a refused connection, a bad URI.
            raise UserError(
                f"the MLflow tracking URI {self.uri} does not answer ({one_line(error, 200)}); "
                "start the server or set MLFLOW_TRACKING_URI"
            ) from error

    def start(self, run: TrackedRun) -> None:
        """The MLflow run of this genbench run: resumed when genbench resumes, else a new one."""
        for name, value in QUICK_REQUESTS.items():
            os.environ.setdefault(name, value)
        client = self._mlflow = self._client()
        self._folder = run.folder
        experiment_id = self.experiment_id or self._experiment_id()
        found = client.search_runs(
            [experiment_id],
            filter_string=f"tags.`genbench.run_id` = '{run.run_id}'",
            order_by=["attributes.start_time DESC"],
            max_results=1,
        )
        self._logged = Counter()
        if run.resumed_at is not None and found:
            self._run_id = found[0].info.run_id
            client.update_run(self._run_id, status="RUNNING")
            self._logged = self._points(client, found[0].data.metrics)
            return
        tags = {"genbench.run_id": run.run_id, "genbench.dataset": run.dataset, "genbench.model": run.model}
        tags["genbench.seed"] = str(run.seed)
        self._run_id = client.create_run(experiment_id, run_name=run.label, tags=tags).info.run_id
        self._log_params(client, run.flat_config())

    def log_row(self, step: int, row: Mapping[str, float]) -> None:
        """The row's scalars at ``step``, less the points MLflow already holds."""
        metrics = {key if "/" in key else f"train/{key}": v for key, v in row.items() if key not in AXES}
        self._log_metrics(metrics, step)

    def end(self, end: RunEnd) -> None:
        """Final metrics, pictures, config.json and metrics.json, then the status."""
        client, run_id = self._mlflow, self._run_id
        metrics = {f"final/{name}": value for name, value in end.metrics.items() if value is not None}
        self._log_metrics(metrics, end.step or 0)
        if end.status != "interrupted" and self._folder is not None:
            folder = self._folder
            for path in sorted(folder.glob("*.png")) + [folder / name for name in ARTIFACTS]:
                if path.exists():
                    client.log_artifact(run_id, str(path))
        if end.error:
            client.set_tag(run_id, "genbench.error", end.error[:5000])
        client.set_terminated(run_id, STATUS.get(end.status, "FAILED"))
        self._mlflow = self._run_id = self._folder = None

    def _client(self) -> Any:
        from mlflow import MlflowClient

        return MlflowClient(self.uri)

    def _experiment_id(self) -> str:
        client = self._client()
        experiment = client.get_experiment_by_name(self.experiment)
        if experiment is not None:
            return str(experiment.experiment_id)
        try:
            return str(client.create_experiment(self.experiment))
        except Exception:  # Another process made it meanwhile (Ray workers start together).
            experiment = client.get_experiment_by_name(self.experiment)
            if experiment is None:
                raise
            return str(experiment.experiment_id)

    def _log_params(self, client: Any, flat: dict[str, int | float | str]) -> None:
        from mlflow.entities import Param

        params = [Param(key, str(value)) for key, value in flat.items()]
        for start in range(0, len(params), PARAMS_PER_CALL):
            client.log_batch(self._run_id, params=params[start : start + PARAMS_PER_CALL])

    def _log_metrics(self, metrics: Mapping[str, float], step: int) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        new = []
        for key, value in metrics.items():
            if self._logged[key, step]:  # Logged by the process that stopped: once is enough.
                self._logged[key, step] -= 1
            else:
                new.append(Metric(key, float(value), now, step))
        if new:
            self._mlflow.log_batch(self._run_id, metrics=new)

    def _points(self, client: Any, keys: Mapping[str, float]) -> Counter[tuple[str, int]]:
        """How many points of each (metric, step) the run holds."""
        return Counter(
            (key, point.step) for key in keys for point in client.get_metric_history(self._run_id, key)
        )


@contextmanager
def _requests(settings: Mapping[str, str]) -> Iterator[None]:
    """MLflow's HTTP settings for the block, where the user did not set them."""
    added = [name for name in settings if name not in os.environ]
    os.environ.update({name: settings[name] for name in added})
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)
