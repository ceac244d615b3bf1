"""Training throughput when scalar logs are read every N steps vs every step, as a ratio in one process.

Each read of the logs is one host synchronisation; on a GPU, reading every step stalls the pipeline.
Usage: python benchmarks/log_sync.py [--device cpu|cuda] [--model dcgan] [--kimg 20] [--log-every 50]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from genbench.api import DataShape, Split
from genbench.core.batches import DeviceBatches
from genbench.core.progress import SilentProgress
from genbench.core.registry import Registry
from genbench.core.run_spec import Budget, Schedule, TrainingSpec
from genbench.running.training import LogOnlyHooks, train

SHAPE = DataShape(channels=1, resolution=28, num_classes=10)


def _split(n: int) -> Split:
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (n, *SHAPE.image_shape), dtype=torch.uint8, generator=generator)
    return Split(images, torch.randint(0, 10, (n,), generator=generator))


def _images_per_second(model_cls: type, device: torch.device, kimg: float, log_every: int) -> float:
    torch.manual_seed(0)
    with torch.device(device):
        model = model_cls.build(SHAPE)
    model.to(device)
    batches = DeviceBatches(_split(10_000), device, seed=0)
    hooks = LogOnlyHooks(lambda row: None)
    spec = TrainingSpec(Budget(kimg), Schedule(log_every))
    result = train(model, batches, _split(256), spec, hooks, SilentProgress())
    return result.images_seen / result.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--model", default="dcgan")
    parser.add_argument("--kimg", type=float, default=20)
    parser.add_argument("--log-every", type=int, default=50)
    args = parser.parse_args()
    device = torch.device(args.device)
    model_cls = Registry.discover().model(args.model).cls
    _images_per_second(model_cls, device, 1, args.log_every)  # Warm up kernels and allocator.

    baseline = _images_per_second(model_cls, device, args.kimg, log_every=1)
    ours = _images_per_second(model_cls, device, args.kimg, log_every=args.log_every)
    print(f"device={device} model={args.model} kimg={args.kimg} ({Path(__file__).name})")
    print(f"log every step:        {baseline:10.0f} img/s")
    print(f"log every {args.log_every:<4d} steps:  {ours:10.0f} img/s")
    print(f"speed-up: {ours / baseline:.2f}x")


if __name__ == "__main__":
    main()
