"""A sweep with the local executor vs the same sweep on Ray, wall time end to end, as a ratio.

Both are the real command (`genbench run`, a fresh process each, Ray's start-up included) on the same
machine, with one cache that a warm-up run fills first, so neither pays for the reference classifier
or the real statistics. On a machine with k GPUs (or k cores, one per run) the Ray sweep should
approach k times faster once runs are long enough to hide Ray's start-up.

Usage: python benchmarks/sweep.py [--models vae,dcgan] [--seeds 0,1] [--kimg 2] [--data digits]
                                  [--cpus-per-run 1] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _genbench(args: list[str], env: dict[str, str]) -> float:
    """Run `genbench run ARGS`; its wall time in seconds (it must succeed)."""
    command = [sys.executable, "-c", "from genbench.cli import main; main()", "run", *args, "--quiet"]
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="vae,dcgan")
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--data", default="digits")
    parser.add_argument("--kimg", default="2")
    parser.add_argument("--n-samples", default="500")
    parser.add_argument("--cpus-per-run", default="1")
    parser.add_argument("--keep", type=Path, help="Keep the output folders here [default: a temporary one].")
    args = parser.parse_args()

    root = args.keep or Path(tempfile.mkdtemp(prefix="genbench-sweep-"))
    env = {**os.environ, "GENBENCH_CACHE_DIR": str(root / "cache")}
    common = ["--data", args.data, "--n-samples", args.n_samples, "--metrics", "fd_clf"]
    # Fill the cache (classifier, real statistics, floor) so both timed sweeps only train and evaluate.
    first = args.models.split(",")[0]
    _genbench([*common, "--models", first, "--kimg", "0.05", "--out", str(root / "warm-up")], env)

    sweep = [*common, "--models", args.models, "--seeds", args.seeds, "--kimg", args.kimg]
    runs = len(args.models.split(",")) * len(args.seeds.split(","))
    local = _genbench([*sweep, "--out", str(root / "local")], env)
    ray_args = ["--executor", "ray", "--cpus-per-run", args.cpus_per_run]
    ray = _genbench([*sweep, *ray_args, "--out", str(root / "ray")], env)
    print(f"{runs} runs ({args.models} x seeds {args.seeds}) on {args.data}, {args.kimg} kimg each")
    print(f"--executor local: {local:7.1f} s")
    print(f"--executor ray:   {ray:7.1f} s (Ray start-up included)")
    print(f"local / ray:      {local / ray:7.2f}x")


if __name__ == "__main__":
    main()
