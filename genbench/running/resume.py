"""Resume checkpoints: everything a killed run needs to go on as if it had never stopped.

A resume checkpoint holds the networks and optimizers, every random number generator (Python, NumPy,
torch CPU and each CUDA device), the position in the shuffled data, and the training state (steps,
images and seconds done, progress snapshots, best metric so far). It is written atomically next to the
previous good one and loaded with ``torch.load(weights_only=True)``. On disk the checkpoint is the
serialised payload with its SHA-256 beside it, so a damaged file (truncated, bit flips, another file)
is never loaded: it is reported and the previous one is used instead, or the run starts over (a checked
cache, :mod:`genbench.core.checked_cache`).
"""

from __future__ import annotations

import io
import os
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch

from genbench.api import Model
from genbench.core.batches import DeviceBatches
from genbench.core.checked_cache import Damaged, check_bytes, load_checked, sha256_of
from genbench.core.files import atomic_write, make_room, remove_damaged
from genbench.core.layout import PREVIOUS_RESUME_FILE, RESUME_FILE
from genbench.errors import one_line
from genbench.running.train_state import TrainState

_REQUIRED_KEYS = ("model", "batches", "rng", "state")  # What checkpoint_payload holds.
FORMAT = 1  # The outer file: {"format", "run", "sha256", "payload": uint8 bytes of torch.save(payload)}.


def checkpoint_payload(model: Model, batches: DeviceBatches, state: TrainState) -> dict[str, Any]:
    """What a resume checkpoint holds: the model (networks and optimizers), the data order, every
    random generator and the loop's state; loadable with ``torch.load(weights_only=True)``."""
    return {
        "model": model.checkpoint_state(),
        "batches": batches.state_dict(),
        "rng": rng_state(),
        "state": state.to_dict(),
    }


class Unrestorable(Exception):
    """A resume checkpoint that verifies but cannot be restored into this run's model."""


def restore(payload: dict[str, Any], model: Model, batches: DeviceBatches) -> TrainState:
    """Put a verified payload's model, data order and random generators back; returns its training
    state. :class:`Unrestorable` when it does not fit ``model``, which may then be half loaded."""
    try:
        model.load_checkpoint_state(payload["model"])
        batches.load_state_dict(payload["batches"])
        restore_rng_state(payload["rng"])
        return TrainState.from_dict(payload["state"])
    except Exception as error:  # Whatever a mismatched payload raises: keys, shapes, types.
        reason = one_line(error, 200)
        raise Unrestorable(f"the resume checkpoint does not fit this run ({reason})") from error


def rng_state() -> dict[str, Any]:
    """The state of every global generator, in types ``weights_only`` loading accepts."""
    version, keys, gauss = random.getstate()
    name, np_keys, position, has_gauss, cached = np.random.get_state()
    state: dict[str, Any] = {
        "python": {"version": version, "keys": list(keys), "gauss": gauss},
        "numpy": {
            "name": name,
            "keys": torch.from_numpy(np_keys.astype(np.int64)),
            "position": int(position),
            "has_gauss": int(has_gauss),
            "cached": float(cached),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    """Put every global generator back where :func:`rng_state` found it."""
    py = state["python"]
    random.setstate((py["version"], tuple(py["keys"]), py["gauss"]))
    npy = state["numpy"]
    keys = npy["keys"].numpy().astype(np.uint32)
    np.random.set_state((npy["name"], keys, npy["position"], npy["has_gauss"], npy["cached"]))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


@contextmanager
def preserved_rng() -> Iterator[None]:
    """Whatever runs inside cannot change what the global generators draw next.

    Evaluation during training goes through libraries that draw from the global generators (a
    DataLoader iterator draws its base seed, for one); without this, whether a cache was warm would
    change the training that follows."""
    state = rng_state()
    try:
        yield
    finally:
        restore_rng_state(state)


def save_resume(folder: Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` as the run's resume checkpoint, keeping the last good one as a fallback.

    The previous checkpoint is renamed aside before the new one is renamed into place, so at every
    instant at least one complete checkpoint exists.
    """
    inner = io.BytesIO()
    torch.save(payload, inner)
    data = inner.getvalue()
    outer = io.BytesIO()
    wrapped = {
        "format": FORMAT,
        "run": folder.name,  # Whose it is: another run's checkpoint copied here is damage, not a resume.
        "sha256": sha256_of(data),
        "payload": torch.frombuffer(bytearray(data), dtype=torch.uint8),
    }
    torch.save(wrapped, outer)
    current, previous = folder / RESUME_FILE, folder / PREVIOUS_RESUME_FILE
    if current.is_file() and not current.is_symlink():
        make_room(previous)
        os.replace(current, previous)
    else:  # A folder or a link in its place is no checkpoint to keep (load_resume said so).
        remove_damaged(current)
    atomic_write(current, lambda f: f.write(outer.getvalue()))


def read_resume(path: Path) -> dict[str, Any]:
    """One resume checkpoint file, verified against the SHA-256 it holds; :class:`Damaged` (or torch's
    and pickle's errors) if damaged."""
    wrapped = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(wrapped, dict) or wrapped.get("format") != FORMAT:
        raise Damaged("not a genbench resume checkpoint")
    if wrapped.get("run", path.parent.name) != path.parent.name:  # Older checkpoints do not say.
        raise Damaged(f"the checkpoint of another run ({wrapped['run']})")
    payload_bytes = wrapped.get("payload")
    if not isinstance(payload_bytes, torch.Tensor) or payload_bytes.dtype != torch.uint8:
        raise Damaged("no payload")
    data = payload_bytes.numpy().tobytes()
    check_bytes(data, wrapped.get("sha256"))
    payload = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    missing = [key for key in _REQUIRED_KEYS if not isinstance(payload, dict) or key not in payload]
    if missing:
        raise Damaged(f"no {', '.join(missing)}")
    return payload


def load_resume(folder: Path, warn: Callable[[str], None]) -> dict[str, Any] | None:
    """The newest readable resume checkpoint of ``folder``, or None when there is none.

    A damaged file (truncated, corrupt, or missing a part) is reported through ``warn``, saying
    whether the previous checkpoint is tried next or the run starts over.
    """
    names = (RESUME_FILE, PREVIOUS_RESUME_FILE)
    candidates = [folder / name for name in names if os.path.lexists(folder / name)]
    for index, path in enumerate(candidates):
        then = f"using {candidates[index + 1].name}" if index + 1 < len(candidates) else "starting over"
        payload = load_checked(f"checkpoint {path}", partial(read_resume, path), warn, then)
        if payload is not None:
            return payload
    return None


def remove_resume(folder: Path) -> None:
    """Delete the resume checkpoints of a finished run (its final ``checkpoint.pt`` stays)."""
    for name in (RESUME_FILE, PREVIOUS_RESUME_FILE):
        (folder / name).unlink(missing_ok=True)


def loads(path: Path) -> bool:
    """Whether a checkpoint file loads (weights only): what a resumed run asks of its ``best.pt``."""
    try:
        torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # Any damage: missing, truncated, not a checkpoint.
        return False
    return True
