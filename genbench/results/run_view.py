"""One run on one screen (``genbench show RUN``): its status (and error), model, budget, protocol,
metrics and files, from its folder's records; or all of it as JSON.

A run is named by its id (its folder's name), the start of one, or its folder's path; a floor by its
id (``<dataset>-floor-<hash>``).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from genbench.core.files import read_json
from genbench.core.layout import CONFIG_FILE, EVALS_DIR, FLOORS_DIR, METRICS_FILE, RUNS_DIR, SCORES_DIR
from genbench.core.metrics import arrow, column_spec, direction
from genbench.core.record import RecordError, RunRecord
from genbench.errors import UserError
from genbench.results.records import read_record_file


@dataclass
class RunView:
    """What ``genbench show`` shows of a run: its record (None while it has none), its config and
    the files of its folder (name -> bytes)."""

    run_id: str
    path: Path
    record: RunRecord | None
    config: dict[str, Any] = field(default_factory=dict)
    files: dict[str, int] = field(default_factory=dict)

    @property
    def status(self) -> str:
        """The record's status; ``unfinished`` for a folder without one."""
        return self.record.status if self.record is not None else "unfinished"

    def to_json(self) -> dict[str, Any]:
        """Everything, for ``--format json``."""
        return {
            "run_id": self.run_id,
            "path": str(self.path),
            "status": self.status,
            "record": self.record.to_dict() if self.record is not None else None,
            "config": self.config,
            "files": self.files,
        }


def find_run(out: Path, name: str) -> Path:
    """The record folder (or floor, score or evaluation file) ``name`` stands for under ``out``: a run
    id, the start of one, or a path; a user error naming the candidates when it is none or several."""
    given = Path(name)
    if (given / CONFIG_FILE).exists() or (given / METRICS_FILE).exists():
        return given
    runs = sorted(p for p in (out / RUNS_DIR).glob("*") if p.is_dir())
    files = [sorted((out / folder).glob("*.json")) for folder in (FLOORS_DIR, SCORES_DIR, EVALS_DIR)]
    floors = [path for found in files for path in found]
    by_id = {p.name: p for p in runs} | {p.stem: p for p in floors}
    if name in by_id:
        return by_id[name]
    starting = [run_id for run_id in by_id if run_id.startswith(name)]
    if len(starting) == 1:
        return by_id[starting[0]]
    if starting:
        raise UserError(f"'{name}' is the start of {len(starting)} runs in {out}: {', '.join(starting)}")
    close = difflib.get_close_matches(name, list(by_id), n=1)
    nearest = f" (did you mean {close[0]}?)" if close else ""
    raise UserError(f"no run '{name}' in {out}{nearest}; `genbench leaderboard --out {out}` lists them")


def read_run(path: Path) -> RunView:
    """The run at ``path`` (a run folder or a floor's file); a damaged record is a user error."""
    try:
        if path.is_file():
            record = read_record_file(path)
            return RunView(record.run_id, path, record, files={path.name: path.stat().st_size})
        record = read_record_file(path / METRICS_FILE) if (path / METRICS_FILE).exists() else None
    except RecordError as error:
        raise UserError(str(error)) from None
    try:
        config = read_json(path / CONFIG_FILE)
    except (OSError, ValueError):  # Missing or damaged: the record still says most.
        config = {}
    shown = [p for p in sorted(path.iterdir()) if p.is_file() and not p.name.startswith(".")]
    files = {p.name: p.stat().st_size for p in shown}
    return RunView(path.name, path, record, config if isinstance(config, dict) else {}, files)


def run_screen(view: RunView) -> RenderableType:
    """The run as a few labelled lines, its metrics (with which way is better) and its files."""
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column(overflow="fold")
    for label, value in _facts(view):
        facts.add_row(label, Text(value))
    parts: list[RenderableType] = [Text(f"{view.run_id}: {view.status}", style="bold"), facts]
    if view.record is not None and view.record.metrics:
        metrics = Table("metric", "value", "", box=None, padding=(0, 2), header_style="bold")
        for name, value in view.record.metrics.items():
            spec = column_spec(name)
            better = "" if spec is None else f"{arrow(name)} {direction(name)}"
            metrics.add_row(name, "" if value is None else f"{value:.4g}", better)
        parts.append(metrics)
    return Group(*parts)


def _facts(view: RunView) -> list[tuple[str, str]]:
    record, config = view.record, view.config
    facts = [("folder", str(view.path))]
    if record is not None and record.error:
        facts.append(("error", record.error))
    model = (record.model if record else None) or config.get("model", "?")
    seed = record.seed if record else config.get("seed")
    dataset = (record.dataset if record else None) or config.get("dataset", "?")
    facts.append(("run", f"{model} on {dataset}" + (f", seed {seed}" if seed is not None else "")))
    # config.json is the run's spec (training.budget); a config.json before the spec had "budget".
    spec_budget = (config.get("training") or {}).get("budget") or config.get("budget")
    budget = spec_budget or (record.budget if record else None) or {}
    if budget:
        facts.append(("budget", _budget(budget, record)))
    if record is not None and record.protocol_summary:
        summary = record.protocol_summary
        split, n = summary.get("reference_split", "?"), summary.get("n_reference", "?")
        facts.append(("protocol", f"against the {split} split ({n} images); " + _weights(summary)))
    if record is not None and record.device:
        facts.append(("device", f"{record.device} ({record.precision or 'fp32'})"))
    if config.get("hparams"):
        facts.append(("hparams", ", ".join(f"{k}={v}" for k, v in config["hparams"].items())))
    facts.append(("files", ", ".join(f"{name} ({_size(size)})" for name, size in view.files.items())))
    return facts


def _budget(budget: dict[str, Any], record: RunRecord | None) -> str:
    units = {"steps": "steps", "seconds": "s"}
    caps = [f"{budget[key]:g} {unit}" for key, unit in units.items() if budget.get(key)]
    kimg = budget.get("kimg")
    text = (f"{kimg:g} kimg" if isinstance(kimg, int | float) else "?") + (
        f" (caps: {', '.join(caps)})" if caps else ""
    )
    if record is not None and record.stopped_by and record.kimg is not None:
        text += f"; stopped by {record.stopped_by} at {record.kimg:g} kimg, {record.steps or 0:,} steps"
    elif record is not None and record.kimg is not None:
        text += f"; got to {record.kimg:g} kimg"
    if record is not None and record.train_seconds is not None:
        text += f"; {record.train_seconds:.0f} s training, {record.wall_seconds or 0:.0f} s in all"
    return text


def _weights(summary: dict[str, Any]) -> str:
    inception = summary.get("inception_weights") or "not used"
    return f"classifier {summary.get('classifier_weights', '?')}, Inception {inception}"


def _size(size: int) -> str:
    scaled = float(size)
    for unit in ("B", "kB", "MB"):
        if scaled < 1000:
            return f"{scaled:.0f} {unit}"
        scaled /= 1000
    return f"{scaled:.1f} GB"
