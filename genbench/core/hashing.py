"""Hashes that name things: a short key from JSON material (a run id, a cache entry) and the SHA-256
of tensors (a dataset's content). Each is computed one way, here, because the names outlive a release:
run ids (pinned by tests/options/test_identity.py) and cache keys are these exact bytes, so the same
inputs must keep giving the same names."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import torch


def stable_hash(material: Any, length: int) -> str:
    """The first ``length`` hex digits of the SHA-256 of ``material`` (JSON-serialisable) written as
    JSON with sorted keys: equal material gives an equal key whatever the order it was built in.

    ``length`` is the caller's, as its names have always had it: 10 for run ids and floors, 16 for the
    reference classifier (another length would rename every existing run and cache entry)."""
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:length]


def tensor_sha256(*tensors: torch.Tensor, layout: bool = False) -> str:
    """The SHA-256 of the tensors' values, in order (CPU tensors; a view is hashed as its values).

    With ``layout``, each tensor's dtype and shape go in before its values, so that the same bytes
    read as another shape give another hash: the run identity's data hash has always had them. The
    cache keys (reference images, the floor's held-out images) never had them and keep their names."""
    digest = hashlib.sha256()
    for tensor in tensors:
        if layout:
            digest.update(repr((str(tensor.dtype), tuple(tensor.shape))).encode())
        digest.update(tensor.contiguous().numpy().tobytes())
    return digest.hexdigest()
