"""Which device a run uses, and how it is named in records."""

from __future__ import annotations

import functools
import platform
from pathlib import Path

import torch

from genbench.errors import UserError


def resolve_device(requested: str) -> torch.device:
    """``auto`` is CUDA where available, else CPU; ``cuda`` without a GPU is a user error."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if requested == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda was asked for but no CUDA GPU is available; use --device auto or cpu")
    return torch.device(requested)


@functools.cache
def cpu_bf16_hardware() -> str | None:
    """The CPU's bf16 matrix hardware, where it has some: ``"AMX bf16"`` (Intel Sapphire Rapids and
    later) or ``"AVX-512 BF16"`` (Cooper Lake, AMD Zen 4 and later); ``None`` on any other CPU, where
    bf16 autocast is emulated and slower than float32. Asked of torch where it can tell (it also checks
    that the operating system lets the process use AMX), else read from ``/proc/cpuinfo``'s flags."""
    if _supported("_is_amx_tile_supported", "amx_bf16"):  # Every AMX CPU has AMX-BF16.
        return "AMX bf16"
    if _supported("_is_avx512_bf16_supported", "avx512_bf16"):
        return "AVX-512 BF16"
    return None


def _supported(torch_check: str, cpuinfo_flag: str) -> bool:
    """torch.cpu's private ``torch_check`` where this torch has it, else the flag in /proc/cpuinfo."""
    check = getattr(torch.cpu, torch_check, None)
    return bool(check()) if callable(check) else cpuinfo_flag in _cpuinfo_flags()


def _cpuinfo_flags() -> set[str]:
    """The first processor's flags in ``/proc/cpuinfo`` (empty where there is none: not Linux)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            return set(value.split())
    return set()


def device_name(device: torch.device) -> str:
    """A human-readable name for records: the GPU model, or the CPU with its thread count and its bf16
    hardware where it has some (it decides what ``--precision auto`` resolves to)."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    cpu = platform.processor() or platform.machine()
    bf16 = cpu_bf16_hardware()
    return f"cpu ({cpu}, {torch.get_num_threads()} threads{f', {bf16}' if bf16 else ''})"
