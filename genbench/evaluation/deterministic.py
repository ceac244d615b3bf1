"""The deterministic context of every training genbench itself does for a metric (the divergence
estimators, the reference classifier): the same inputs give the same bits in any process on the same
machine, whatever the caller set before.

What it fixes, and why each (measured on torch 2.13, CPU):

- torch's intra-op threads, to :data:`THREADS`: oneDNN splits a convolution's backward reduction by
  thread count, so the same estimator trained with 1, 3, 4 or 8 threads gave four different
  estimates (``w1_critic`` 4.3336, 4.3348, 4.3333, 4.3432 on 28x28 images). One thread is the count
  every machine has.
- ``torch.use_deterministic_algorithms(True)`` (not ``warn_only``: an op with no deterministic kernel
  must fail loudly here, not turn a metric silently into a random number), cuDNN ``deterministic`` and
  no ``benchmark`` (its autotuner may pick another algorithm in another process). These matter on
  CUDA; on the CPU the estimators' ops have no nondeterministic kernels, so they only guard.
- cuBLAS's workspace (:func:`configure_cublas`): CUDA's matrix products are deterministic only with
  ``CUBLAS_WORKSPACE_CONFIG`` set before cuBLAS's first handle is made, so the command line sets it
  at its start where it is unset.

Every setting is restored on the way out, an exception included. Random draws are not this module's:
each training seeds its own generators (genbench.evaluation.divergence, genbench.evaluation.classifier).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

import torch

THREADS = 1  # Intra-op threads of a metric's training on the CPU (the module's docstring says why).
CUBLAS_WORKSPACE = ":4096:8"  # One of the two settings NVIDIA documents as deterministic.


def configure_cublas() -> None:
    """Set ``CUBLAS_WORKSPACE_CONFIG`` for deterministic cuBLAS where the user has not set it. Call it
    before anything uses CUDA: cuBLAS reads it once, when its first handle is made."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE)


@dataclass(frozen=True)
class _Settings:
    """torch's global settings that :func:`deterministic` changes."""

    algorithms: bool
    warn_only: bool
    cudnn_deterministic: bool
    cudnn_benchmark: bool
    threads: int

    @classmethod
    def current(cls) -> _Settings:
        """The settings in force now."""
        return cls(
            torch.are_deterministic_algorithms_enabled(),
            torch.is_deterministic_algorithms_warn_only_enabled(),
            torch.backends.cudnn.deterministic,
            torch.backends.cudnn.benchmark,
            torch.get_num_threads(),
        )

    def apply(self) -> None:
        """Put these settings in force."""
        torch.use_deterministic_algorithms(self.algorithms, warn_only=self.warn_only)
        torch.backends.cudnn.deterministic = self.cudnn_deterministic
        torch.backends.cudnn.benchmark = self.cudnn_benchmark
        if torch.get_num_threads() != self.threads:  # Setting it anew costs a thread pool restart.
            torch.set_num_threads(self.threads)


DETERMINISTIC = _Settings(
    algorithms=True, warn_only=False, cudnn_deterministic=True, cudnn_benchmark=False, threads=THREADS
)


@contextlib.contextmanager
def deterministic() -> Iterator[None]:
    """Deterministic algorithms, cuDNN deterministic without autotuning, and :data:`THREADS` threads
    inside; the caller's settings again afterwards."""
    previous = _Settings.current()
    DETERMINISTIC.apply()
    try:
        yield
    finally:
        previous.apply()


def protocol(device: torch.device) -> dict[str, object]:
    """What a metric trained under :func:`deterministic` on ``device`` records about it."""
    cuda = device.type == "cuda"
    return {
        "deterministic_algorithms": DETERMINISTIC.algorithms,
        "cudnn_deterministic": DETERMINISTIC.cudnn_deterministic,
        "cudnn_benchmark": DETERMINISTIC.cudnn_benchmark,
        "cpu_threads": DETERMINISTIC.threads,
        "cublas_workspace_config": os.environ.get("CUBLAS_WORKSPACE_CONFIG") if cuda else None,
    }
