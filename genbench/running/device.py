"""Which device a run uses, and how it is named in records."""

from __future__ import annotations

import platform

import torch

from genbench.errors import UserError


def resolve_device(requested: str) -> torch.device:
    """``auto`` is CUDA where available, else CPU; ``cuda`` without a GPU is a user error."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if requested == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda was asked for but no CUDA GPU is available; use --device auto or cpu")
    return torch.device(requested)


def device_name(device: torch.device) -> str:
    """A human-readable name for records: the GPU model, or the CPU with its thread count."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    cpu = platform.processor() or platform.machine()
    return f"cpu ({cpu}, {torch.get_num_threads()} threads)"
