"""What a sweep would do, without doing it (``genbench run --dry-run``): each run, whether it would be
trained, resumed or reused, and its folder. Nothing is trained, evaluated or written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from genbench.core.layout import PREVIOUS_RESUME_FILE, RESUME_FILE
from genbench.core.record import RecordError
from genbench.results.records import RunFolder

ACTIONS = ("train", "train again", "resume", "reuse")


@dataclass(frozen=True)
class PlannedRun:
    """One run of a sweep and what ``run`` would do with it; ``folder`` None where the folder is not
    known yet (its name holds the reference classifier's hash, and that classifier is not trained)."""

    action: str  # One of ACTIONS.
    name: str  # The run id, or "<dataset>/<model> seed <n>" where the folder is not known.
    folder: Path | None
    why: str = ""


def planned(folder: RunFolder, restart: bool) -> PlannedRun:
    """What ``run`` does with the run in ``folder``: what genbench.running.jobs decides, read only."""
    try:
        record = folder.read_record()
    except RecordError as error:
        return PlannedRun("train again", folder.run_id, folder.path, f"its record is damaged: {error}")
    status = None if restart or record is None else record.status
    if status in ("finished", "diverged"):
        return PlannedRun("reuse", folder.run_id, folder.path, f"already {status}")
    resumable = any(folder.file(name).exists() for name in (RESUME_FILE, PREVIOUS_RESUME_FILE))
    if resumable and not restart:
        return PlannedRun("resume", folder.run_id, folder.path, "from its last checkpoint")
    if status == "failed":
        return PlannedRun("train again", folder.run_id, folder.path, "it failed last time")
    return PlannedRun("train", folder.run_id, folder.path, "--restart" if restart and record else "")


def plan_lines(runs: list[PlannedRun]) -> list[str]:
    """One line per run, ``[i/n] action  folder``, then what they add up to."""
    width = max(len(action) for action in ACTIONS)
    lines = []
    for index, run in enumerate(runs, 1):
        where = str(run.folder) if run.folder is not None else f"{run.name} (folder named once trained)"
        why = f"  ({run.why})" if run.why else ""
        lines.append(f"[{index}/{len(runs)}] {run.action:<{width}}  {where}{why}")
    counts = {action: sum(run.action == action for run in runs) for action in ACTIONS}
    said = [f"{count} to {action}" for action, count in counts.items() if count]
    lines.append(f"{len(runs)} runs: {', '.join(said)}; nothing done (--dry-run)")
    return lines
