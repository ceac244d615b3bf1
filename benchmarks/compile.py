"""torch.compile (inductor) on the CPU: does it pay after its compile time at the budgets users run?

Two uses, each eager against compiled in one process, one torch thread, CPU seconds of the process
and of its finished children (inductor compiles in this process, ``compile_threads = 1``, and runs the
C++ compiler as a child for each kernel, so that the whole compile time is in them; wall-clock beside):

1. A model's training step at its default batch, in the precision ``--precision auto`` resolves to here
   (bf16 autocast and channels-last where declared and the CPU has bf16 hardware), its networks compiled
   in place (``nn.Module.compile()``, the usual way; the optimizers stay foreach). Compile seconds = the
   first compiled steps' seconds less as many steady compiled steps, plus what compiling the networks'
   eval path costs a run (its first held-out estimate and first ``sample()``, less the eager ones).
   Break-even = compile seconds / per-step saving, in steps and kimg, set against the README's default
   budget (40 kimg) and 300 kimg.
2. The reference classifier's features of 10,000 test images (the pinned classifier, batches of 256 as
   the evaluation extracts them): eager against compiled per pass, compile seconds apart; break-even in
   passes (a run's evaluation makes about one).

Inductor's on-disk cache is a fresh folder unless ``--inductor-cache`` names one: run twice with the
same folder to see a warm cache's compile seconds.

Usage: python benchmarks/compile.py [--models dcgan,vae] [--data fashion-mnist] [--steps 40]
       [--skip-features] [--inductor-cache DIR] [--data-root DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
from training_loops import BareLoop

from genbench.api import DataShape, Model, Split
from genbench.core.images import to_unit_range
from genbench.core.registry import Registry
from genbench.evaluation.classifier import cached_classifier, load_classifier
from genbench.options.identity import data_sha256

BUDGETS_KIMG = (40.0, 300.0)  # The README's default `genbench run`, and a typical Fashion-MNIST run.
FIRST_STEPS = 3  # Compiled steps timed as "first": they trace, compile and run.
FEATURE_BATCH = 256  # genbench.evaluation.setup.EvaluationSetup.batch_size.
CPU = torch.device("cpu")


def _cpu_seconds() -> float:
    """This process's CPU seconds and those of its finished children: inductor runs the C++ compiler
    in a child process for each kernel it builds."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def _timed(work: Callable[[], object]) -> tuple[float, float]:
    """CPU seconds (:func:`_cpu_seconds`) and wall seconds of ``work()``."""
    cpu, wall = _cpu_seconds(), time.perf_counter()
    work()
    return _cpu_seconds() - cpu, time.perf_counter() - wall


def compile_networks(model: Model) -> None:
    """Compile each network of ``model`` in place (its parameters and state-dict keys unchanged)."""
    for child in model.children():
        child.compile()


def _eval_path(model: Model, test: Split) -> None:
    """What a run asks of the networks outside training: a held-out estimate and samples."""
    with torch.no_grad():
        model.eval()
        images = to_unit_range(test.images[:256])
        model.estimate(images, test.labels[:256])
        labels = test.labels[:500] if model.conditional else None
        model.sample(500, torch.Generator().manual_seed(0), labels)
        model.train()


def training_row(name: str, cls: type[Model], shape: DataShape, train: Split, test: Split, steps: int) -> str:
    """One model's eager and compiled step, compile seconds and break-even, as a table row."""
    eager, compiled = BareLoop(cls, shape, CPU, train), BareLoop(cls, shape, CPU, train)
    eager_eval = _timed(lambda: _eval_path(eager.model, test))[0]
    compile_networks(compiled.model)
    first = _timed(lambda: compiled.run(FIRST_STEPS))
    compiled_eval = _timed(lambda: _eval_path(compiled.model, test))[0]
    seconds = {"eager": 0.0, "compiled": 0.0}
    for _ in range(4):  # Interleaved rounds: other processes' load falls on both alike.
        for label, loop in (("eager", eager), ("compiled", compiled)):
            seconds[label] += _timed(lambda loop=loop: loop.run(steps // 4))[0]
    per_step = {label: s / (steps // 4 * 4) for label, s in seconds.items()}
    compile_s = first[0] - FIRST_STEPS * per_step["compiled"] + max(0.0, compiled_eval - eager_eval)
    saving = per_step["eager"] - per_step["compiled"]
    batch = eager.batch
    even = "never (no per-step saving)"
    if saving > 0:
        even = f"{compile_s / saving:.0f} steps = {compile_s / saving * batch / 1000:.1f} kimg"
    # Seconds saved over a whole budget, compile time paid: positive where compiling pays.
    nets = " / ".join(f"{saving * kimg * 1000 / batch - compile_s:+.0f} s" for kimg in BUDGETS_KIMG)
    return (
        f"| {name} | {batch} | {eager.precision} | {per_step['eager'] * 1000:.1f} | "
        f"{per_step['compiled'] * 1000:.1f} | {per_step['eager'] / per_step['compiled']:.2f} | "
        f"{first[0]:.1f} ({first[1]:.1f} wall) | {compiled_eval - eager_eval:.1f} | {compile_s:.1f} | "
        f"{even} | {nets} |"
    )


def features_rows(dataset: str, shape: DataShape, train: Split, test: Split, cache: Path) -> list[str]:
    """Eager and compiled feature passes over the test split with the pinned classifier."""
    info = cached_classifier(
        dataset, shape, train, test, cache / "classifiers", CPU, data_sha256=data_sha256(train, test)
    )
    network = load_classifier(info.path, CPU)
    compiled_features = torch.compile(network.features)
    images = test.images[:10_000]

    def run(features: Callable[[torch.Tensor], torch.Tensor]) -> None:
        with torch.inference_mode():
            for chunk in images.split(FEATURE_BATCH):
                features(to_unit_range(chunk))

    run(network.features)  # Warm: the first eager pass allocates what the next ones reuse.
    first = _timed(lambda: run(compiled_features))
    seconds = {"eager": 0.0, "compiled": 0.0}
    for _ in range(3):
        seconds["eager"] += _timed(lambda: run(network.features))[0]
        seconds["compiled"] += _timed(lambda: run(compiled_features))[0]
    eager, compiled = seconds["eager"] / 3, seconds["compiled"] / 3
    compile_s, saving = first[0] - compiled, eager - compiled
    even = f"{compile_s / saving:.0f} passes" if saving > 0 else "never (no per-pass saving)"
    return [
        f"- classifier ({'pinned' if info.pinned else 'trained here'}) features of {len(images)} "
        f"{dataset} test images, batches of {FEATURE_BATCH}: eager {eager:.2f} s, compiled "
        f"{compiled:.2f} s per pass ({eager / compiled:.2f}x); first compiled pass {first[0]:.1f} s "
        f"({first[1]:.1f} s wall), so compiling costs {compile_s:.1f} s; break-even after {even}"
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="dcgan,acgan,vae")
    parser.add_argument("--data", default="fashion-mnist")
    parser.add_argument("--steps", type=int, default=40, help="steady steps timed per variant")
    parser.add_argument("--skip-features", action="store_true")
    parser.add_argument("--inductor-cache", type=Path, default=None)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "genbench-compile-cache")
    parser.add_argument("--data-root", type=Path, default=Path("~/.cache/genbench/data").expanduser())
    args = parser.parse_args()
    # Before inductor is imported: its cache folder and in-process compiling are read then.
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = str(args.inductor_cache or tempfile.mkdtemp(prefix="inductor-"))
    torch.set_num_threads(1)
    import torch._inductor.config as inductor_config

    inductor_config.compile_threads = 1
    registry = Registry.discover()
    dataset_cls = registry.dataset(args.data).cls
    dataset = dataset_cls(args.data_root, download=False)
    train, test = dataset.load("train"), dataset.load("test")
    print(f"# torch {torch.__version__}, {args.data}; command: python {' '.join(sys.argv)}")
    print(f"# load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        "| model | batch | precision | eager ms/step | compiled ms/step | speed-up | first "
        f"{FIRST_STEPS} compiled steps s | eval path's extra s | compile s | break-even | "
        f"net at {' / '.join(f'{k:g}' for k in BUDGETS_KIMG)} kimg |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name in [m for m in args.models.split(",") if m]:
        row = training_row(name, registry.model(name).cls, dataset_cls.shape, train, test, args.steps)
        print(row, f"(load {os.getloadavg()[0]:.2f})", flush=True)
    if not args.skip_features:
        for line in features_rows(args.data, dataset_cls.shape, train, test, args.cache):
            print(line, flush=True)
    print(f"# load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
