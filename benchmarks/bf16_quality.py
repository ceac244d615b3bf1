"""Does bf16 change conclusions? Each model trained on digits for 3 seeds in float32 and 3 in bf16.

The CPU fast path (issue 22) trains the models that declare ``bf16_safe`` under bf16 autocast on a CPU
with bf16 hardware. This runs the real command (`genbench run --precision fp32|bf16`, one process per
budget group and precision, one cache for all) and prints, per model and metric, mean ± std over the
seeds for each precision and whether the bf16 mean is within the float32 seed spread:
|mean_bf16 − mean_fp32| ≤ 2 · max(std_fp32, std_bf16). The floor row (real train vs test) says where
"learned" is. Models that do not declare ``bf16_safe`` may be listed too: they are trained in bf16 by
``--precision bf16`` all the same, which says whether their declaration could change.

Usage: python benchmarks/bf16_quality.py [--models dcgan,acgan,gan,cgan,vae,wgan-gp:150] [--kimg 50]
                                         [--seeds 0,1,2] [--n-samples 5000] [--keep DIR]
A model's own budget follows a colon (``wgan-gp:150``: its critic takes five steps per generator step).
CPU seconds are the genbench processes' (user + system, from ``getrusage(RUSAGE_CHILDREN)``).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

METRICS = "fd_clf,kid_clf,prc_clf,isc_clf,acc_clf,fd_pca"
PRECISIONS = ("fp32", "bf16")
SKIP = {"kid_std", "isc_std", "acc_clf_real"}  # Spreads within one run and the ceiling: not results.


def _genbench(args: list[str], env: dict[str, str]) -> None:
    command = [sys.executable, "-c", "from genbench.cli import main; main()", "run", *args]
    subprocess.run([*command, "--quiet", "--no-report"], env=env, check=True, stdout=subprocess.DEVNULL)


def _rows(out: Path) -> list[dict[str, str]]:
    with (out / "leaderboard.csv").open(newline="") as file:
        return list(csv.DictReader(file))


def _metric_columns(rows: list[dict[str, str]]) -> list[str]:
    first = list(rows[0])
    start = first.index("classifier_weights") + 1
    columns = [c for c in first[start:] if not c.startswith(("best_", "final_"))]
    return [c for c in columns if any(r[c] for r in rows) and not any(c.startswith(s) for s in SKIP)]


def _recorded_precisions(out: Path) -> dict[str, str]:
    """Each run's recorded precision, by run id: the check that the run trained as asked."""
    found = {}
    for path in (out / "runs").glob("*/metrics.json"):
        record = json.loads(path.read_text())
        found[record["run_id"]] = record.get("precision") or "fp32"
    return found


def _mean_std(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="dcgan,acgan,gan,cgan,vae,wgan-gp:150")
    parser.add_argument("--kimg", default="50")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--data", default="digits")
    parser.add_argument("--n-samples", default="5000")
    parser.add_argument("--metrics", default=METRICS)
    parser.add_argument("--keep", type=Path, help="Keep the output folders here [default: a temporary one].")
    args = parser.parse_args()

    root = args.keep or Path(tempfile.mkdtemp(prefix="genbench-bf16-"))
    env = {**os.environ, "GENBENCH_CACHE_DIR": str(root / "cache")}
    groups: dict[str, list[str]] = defaultdict(list)  # kimg -> models
    for item in args.models.split(","):
        name, _, kimg = item.partition(":")
        groups[kimg or args.kimg].append(name)
    common = ["--data", args.data, "--seeds", args.seeds, "--n-samples", args.n_samples]
    common += ["--metrics", args.metrics, "--eval-every", "0"]

    load_before, started = os.getloadavg(), time.perf_counter()
    rows: dict[str, list[dict[str, str]]] = defaultdict(list)
    floor: dict[str, str] = {}
    for kimg, models in groups.items():
        for precision in PRECISIONS:
            out = root / f"{precision}-{kimg}kimg"
            budget = ["--kimg", kimg, "--precision", precision, "--out", str(out)]
            _genbench([*common, "--models", ",".join(models), *budget], env)
            recorded = _recorded_precisions(out)
            for row in _rows(out):
                if row["status"] == "floor":
                    floor = row
                    continue
                assert row["status"] == "finished", f"{row['run_id']}: {row['status']} {row['error']}"
                trained = recorded[row["run_id"]]
                assert trained == precision, f"{row['run_id']} trained in {trained}, not {precision}"
                rows[f"{row['model']}|{kimg}|{precision}"].append(row)
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_after = os.getloadavg()

    print(f"{args.data}, seeds {args.seeds}, {args.n_samples} samples, metrics {args.metrics}")
    print(
        f"wall {wall:.0f} s, CPU {usage.ru_utime + usage.ru_stime:.0f} s (genbench processes), "
        f"load average {load_before[0]:.2f} at the start, {load_after[0]:.2f} at the end"
    )
    print()
    print("| model | kimg | metric | floor | fp32 mean ± std | bf16 mean ± std | Δmean / max std | within |")
    print("|---|---|---|---|---|---|---|---|")
    for kimg, models in groups.items():
        for model in models:
            fp32, bf16 = rows[f"{model}|{kimg}|fp32"], rows[f"{model}|{kimg}|bf16"]
            for column in _metric_columns(fp32 + bf16):
                a = _mean_std([float(r[column]) for r in fp32 if r[column]])
                b = _mean_std([float(r[column]) for r in bf16 if r[column]])
                spread = max(a[1], b[1])
                ratio = abs(b[0] - a[0]) / spread if spread > 0 else (0.0 if b[0] == a[0] else float("inf"))
                within = "yes" if abs(b[0] - a[0]) <= 2 * spread else "**no**"
                floor_value = f"{float(floor[column]):.4g}" if floor.get(column) else ""
                print(
                    f"| {model} | {kimg} | {column} | {floor_value} | {a[0]:.4g} ± {a[1]:.2g} | "
                    f"{b[0]:.4g} ± {b[1]:.2g} | {ratio:.2f} | {within} |"
                )
    print(f"\noutput folders: {root}")


if __name__ == "__main__":
    main()
