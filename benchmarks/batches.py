"""Minibatches from a device-resident split vs a DataLoader, as a ratio in one process.

Usage: python benchmarks/batches.py [--device cpu|cuda] [--batches 2000] [--batch-size 64]
"""

from __future__ import annotations

import argparse
import time

import torch

from genbench.api import Split
from genbench.core.batches import DeviceBatches
from genbench.core.images import to_unit_range


def _split(n: int = 60_000) -> Split:
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (n, 1, 28, 28), dtype=torch.uint8, generator=generator)
    return Split(images, torch.randint(0, 10, (n,), generator=generator))


def _time(draw, batches: int, device: torch.device) -> float:
    draw()  # Warm up.
    if device.type == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    for _ in range(batches):
        draw()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batches", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    device, split = torch.device(args.device), _split()

    device_batches = DeviceBatches(split, device, seed=0)
    ours = _time(lambda: device_batches.next(args.batch_size), args.batches, device)

    dataset = torch.utils.data.TensorDataset(split.images, split.labels)
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=args.batch_size, shuffle=True, drop_last=True, pin_memory=device.type == "cuda"
    )
    stream = iter(loader)

    def from_loader() -> tuple[torch.Tensor, torch.Tensor]:
        nonlocal stream
        try:
            images, labels = next(stream)
        except StopIteration:
            stream = iter(loader)
            images, labels = next(stream)
        return to_unit_range(images.to(device, non_blocking=True)), labels.to(device, non_blocking=True)

    baseline = _time(from_loader, args.batches, device)
    print(f"device={device} batches={args.batches} batch_size={args.batch_size}")
    print(f"DataLoader baseline: {baseline * 1e6 / args.batches:8.1f} us/batch")
    print(f"DeviceBatches:       {ours * 1e6 / args.batches:8.1f} us/batch")
    print(f"speed-up (baseline / DeviceBatches): {baseline / ours:.2f}x")


if __name__ == "__main__":
    main()
