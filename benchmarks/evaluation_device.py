"""The feature-metric math of one evaluation (FID, KID, precision/recall, FD∞ from features) on
the evaluation's device (issue 25, "Evaluation on the device"), against torch-fidelity's CPU path.

Features shaped like the reference classifier's (``--n`` images a side, ``--dim`` dimensions: 10,000 x
64 by default; ``--dim 2048`` for Inception's) are scored two ways in the same process, in interleaved
rounds so that other processes' load falls on both alike:

- old: torch-fidelity's own functions on the CPU, NumPy and all, as every evaluation computed them
  until now and a CPU evaluation still does (genbench.evaluation.feature_comparison);
- new: genbench's torch versions (genbench.evaluation.frechet, kernel_distance, precision_recall,
  and FD∞'s FDs at its subset sizes, genbench.evaluation.fd_infinity), which a CUDA evaluation runs
  on the GPU, here on the CPU with device=cpu.

It prints each metric's process CPU seconds and wall seconds (medians over ``--rounds``), new/old, the
relative difference of the values and the load average. Where CUDA is available the new path is timed
on the GPU too (synchronised, after a warm-up), beside the old path on the CPU. Nothing is written
unless ``--out FILE`` is given, and then only the figures this run measured, with the machine and date.
The CUDA figures of issue 25's targets are unmeasured until this is run on a GPU machine.

Usage: python benchmarks/evaluation_device.py [--n 10000] [--dim 64] [--subsets 100] [--rounds 3]
       [--threads 1] [--out FILE]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import torch
from threadpoolctl import threadpool_limits
from torch_fidelity.defaults import DEFAULTS
from torch_fidelity.metric_fid import fid_features_to_statistics, fid_statistics_to_metric
from torch_fidelity.metric_kid import KEY_METRIC_KID_MEAN, kid_features_to_metric
from torch_fidelity.metric_prc import calculate_precision_recall_part

from genbench.evaluation.fd_infinity import SEED, _fd_at_sizes, fd_at_sizes_on, subset_sizes
from genbench.evaluation.fidelity import kid_subset_size
from genbench.evaluation.frechet import device_frechet_distance
from genbench.evaluation.frechet import statistics as gaussian
from genbench.evaluation.kernel_distance import device_kid
from genbench.evaluation.precision_recall import membership

CPU = torch.device("cpu")
NEIGHBOURHOOD, PRC_BATCH = DEFAULTS["prc_neighborhood"], DEFAULTS["prc_batch_size"]
LEGEND = (
    "old: torch-fidelity's CPU functions (what a CPU evaluation computes); new: genbench's torch path "
    "(what a CUDA evaluation computes on the GPU), here with device=cpu; medians over the rounds."
)
FD_INF = "fd_inf (sum of the FDs at its sizes)"  # FD∞'s FDs at every subset size: its whole cost.
# A metric's computation: (generated, reference, KID subsets, KID subset size) -> its value.
Metric = Callable[[torch.Tensor, torch.Tensor, int, int], float]


def features(n: int, dim: int, seed: int, shift: float) -> torch.Tensor:
    """Penultimate-layer-like features (rectified, correlated), ``shift`` apart between the two sides."""
    basis = torch.randn(dim, dim, generator=torch.Generator().manual_seed(99)) / dim**0.5
    scale = torch.linspace(2.0, 0.1, dim)
    latent = torch.randn(n, dim, generator=torch.Generator().manual_seed(seed)) * scale
    return torch.relu(latent @ basis + shift)


def old_path() -> dict[str, Metric]:
    """torch-fidelity's CPU computations, one per metric."""

    def fid(x: torch.Tensor, y: torch.Tensor, subsets: int, size: int) -> float:
        stats = (fid_features_to_statistics(side) for side in (x, y))
        return float(fid_statistics_to_metric(*stats, verbose=False)["frechet_inception_distance"])

    def kid(x: torch.Tensor, y: torch.Tensor, subsets: int, size: int) -> float:
        found = kid_features_to_metric(x, y, kid_subsets=subsets, kid_subset_size=size, verbose=False)
        return float(found[KEY_METRIC_KID_MEAN])

    def prc(x: torch.Tensor, y: torch.Tensor, subsets: int, size: int) -> float:
        return sum(calculate_precision_recall_part(x, y, NEIGHBOURHOOD, PRC_BATCH))

    def fd_inf(x: torch.Tensor, y: torch.Tensor, subsets: int, size: int) -> float:
        features = x.double().numpy()
        return sum(_fd_at_sizes(features, gaussian(y.double().numpy()), subset_sizes(len(x)), SEED))

    return {"fid": fid, "kid": kid, "prc (precision + recall)": prc, FD_INF: fd_inf}


def new_path(device: torch.device) -> dict[str, Metric]:
    """genbench's torch computations on ``device``, one per metric (features moved there included)."""

    def fid(x: torch.Tensor, y: torch.Tensor, subsets: int, size: int) -> float:
        return device_frechet_distance(x, y, device)

    def kid(x: torch.Tensor, y: torch.Tensor, subsets: int, size: int) -> float:
        return device_kid(x, y, subsets, size, device)[KEY_METRIC_KID_MEAN]

    def prc(x: torch.Tensor, y: torch.Tensor, subsets: int, size: int) -> float:
        found = membership(x, y, NEIGHBOURHOOD, PRC_BATCH, device)
        return found.precision + found.recall

    def fd_inf(x: torch.Tensor, y: torch.Tensor, subsets: int, size: int) -> float:
        features, sizes = x.double().numpy(), subset_sizes(len(x))
        return sum(fd_at_sizes_on(features, gaussian(y.double().numpy()), sizes, SEED, device))

    return {"fid": fid, "kid": kid, "prc (precision + recall)": prc, FD_INF: fd_inf}


def timed(work: Callable[[], float], device: torch.device) -> tuple[float, float, float]:
    """``work()``'s value, process CPU seconds and wall seconds (the device synchronised)."""
    cpu, wall = time.process_time(), time.perf_counter()
    value = work()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return value, time.process_time() - cpu, time.perf_counter() - wall


def compare_paths(args: argparse.Namespace) -> list[str]:
    """Time every metric both ways on the CPU (and the new way on CUDA where there is one)."""
    x, y = features(args.n, args.dim, 1, 0.3), features(args.n, args.dim, 2, 0.0)
    size = kid_subset_size(args.n, args.n)
    lines = [
        f"features {args.n} x {args.dim} a side; KID {args.subsets} subsets of {size}; "
        f"{args.threads} torch/BLAS thread(s); load average before {os.getloadavg()}"
    ]
    for name, old in old_path().items():
        new = new_path(CPU)[name]
        runs: dict[str, list[tuple[float, float, float]]] = {"old": [], "new": []}
        for _ in range(args.rounds):  # Interleaved: the machine's other load falls on both alike.
            runs["old"].append(timed(partial(old, x, y, args.subsets, size), CPU))
            runs["new"].append(timed(partial(new, x, y, args.subsets, size), CPU))
        (old_value, old_cpu, old_wall), (new_value, new_cpu, new_wall) = (_medians(runs[k]) for k in runs)
        difference = abs(new_value - old_value) / max(abs(old_value), 1e-300)
        lines.append(
            f"{name} on CPU: old {old_wall:.3f} s wall ({old_cpu:.3f} s CPU), new {new_wall:.3f} s wall "
            f"({new_cpu:.3f} s CPU); new/old wall {new_wall / old_wall:.2f}, CPU {new_cpu / old_cpu:.2f}; "
            f"values differ by {difference:.1e} relative; load {os.getloadavg()[0]:.2f}"
        )
        if torch.cuda.is_available():
            lines.append(on_cuda(name, x, y, args, old_wall))
    lines.append(f"load average after {os.getloadavg()}")
    if not torch.cuda.is_available():  # Said, not left out: a reader looks for the GPU's figures.
        lines.append("CUDA: not measured (no CUDA device in this run)")
    return lines


def on_cuda(name: str, x: torch.Tensor, y: torch.Tensor, args: argparse.Namespace, old_wall: float) -> str:
    """The new path of metric ``name`` timed on the GPU (after a warm-up: kernels, cuBLAS, cuSOLVER),
    beside the old path's CPU wall seconds ``old_wall``."""
    cuda = torch.device("cuda")
    metric, size = new_path(cuda)[name], kid_subset_size(args.n, args.n)
    runs = [timed(partial(metric, x, y, args.subsets, size), cuda) for _ in range(args.rounds + 1)]
    wall = _medians(runs[1:])[2]
    gpu = torch.cuda.get_device_name(cuda)
    return f"{name} on {gpu}: {wall:.3f} s wall; CPU old / CUDA new {old_wall / wall:.1f}x"


def _medians(runs: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    """The last run's value, and the median CPU and wall seconds."""
    return runs[-1][0], statistics.median(r[1] for r in runs), statistics.median(r[2] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="images a side")
    parser.add_argument("--dim", type=int, default=64, help="feature dimensions")
    parser.add_argument("--subsets", type=int, default=100, help="KID subsets (an evaluation's: 100)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch and BLAS threads")
    parser.add_argument("--out", type=Path, help="write the measured figures here (markdown)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with threadpool_limits(limits=args.threads, user_api="blas"):  # As genbench.evaluation.fidelity does.
        lines = compare_paths(args)
    print("\n".join(lines))
    if args.out is not None:
        machine = f"{platform.node()}, {os.cpu_count()} CPUs, torch {torch.__version__}"
        measured = f"Measured {datetime.date.today()} on {machine}. {LEGEND}"
        header = f"# Evaluation math on the device\n\n{measured}\n\n"
        args.out.write_text(header + "".join(f"- {line}\n" for line in lines))


if __name__ == "__main__":
    main()
