"""Results folders for the report's tests, written without training: run records, configs, training
logs, pictures of the sizes real runs draw and real-data floors."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import torch
from specs import SPEC, a_spec

from genbench.core.copying_gallery import CopyingGallery, NearestPair
from genbench.core.layout import FLOOR_MODEL
from genbench.core.record import RunRecord
from genbench.core.run_spec import Budget
from genbench.evaluation.floor import write_floor
from genbench.figures.copying_gallery import save_copying_gallery
from genbench.figures.curves import write_run_curves
from genbench.figures.pictures import save_image_grid
from genbench.results.records import RunFolder

# Every summary column of a run with Inception weights (the spreads too), as `genbench run` names them
# for --n-samples 1000: twelve metrics a researcher compares.
ALL_METRICS = {
    "fd_clf_1k": 40.0,
    "kid_clf_1k": 2.5e4,
    "kid_std_clf_1k": 900.0,
    "precision_clf_1k": 0.6,
    "recall_clf_1k": 0.4,
    "isc_clf_1k": 7.5,
    "isc_std_clf_1k": 0.2,
    "jsd_clf": 0.3,
    "w1_critic": 0.8,
    "fid_1k": 60.0,
    "kid_1k": 0.05,
    "kid_std_1k": 0.004,
    "isc_1k": 2.1,
    "isc_std_1k": 0.05,
    "precision_1k": 0.7,
    "recall_1k": 0.3,
}


def write_run(
    out: Path,
    model: str,
    seed: int,
    metrics: dict[str, float | None],
    *,
    status: str = "finished",
    dataset: str = "digits",
    kimg: float = 10.0,
    setup: str = "s1",
    hparams: dict[str, Any] | None = None,
) -> RunFolder:
    """A run's config.json and metrics.json (no metrics but an error unless finished)."""
    run_id = f"{dataset}-{model}-seed{seed}-{setup}"
    folder = RunFolder(out, run_id)
    folder.path.mkdir(parents=True, exist_ok=True)
    folder.write_spec(
        a_spec(
            run_id=run_id,
            setup=setup,
            dataset=dataset,
            model=model,
            seed=seed,
            hparams=hparams or {"lr": 0.0002, "batch_size": 64},
            training=dataclasses.replace(SPEC.training, budget=Budget(kimg)),
            evaluation=dataclasses.replace(SPEC.evaluation, n_samples=1000),
        )
    )
    record: dict[str, Any] = {
        "run_id": run_id,
        "dataset": dataset,
        "model": model,
        "seed": seed,
        "status": status,
        "setup": setup,
        "budget_kimg": kimg,
        "kimg": kimg,
        "metrics": metrics if status == "finished" else {},
        "protocol_summary": {"reference_split": "test", "n_reference": 360},
    }
    if status != "finished":
        record["error"] = f"training {status}: loss is nan at step 12\nTraceback (most recent call last): …"
    folder.write_metrics(RunRecord.from_dict(record))
    return folder


def write_floor_record(
    out: Path, metrics: dict[str, float], dataset: str = "digits", key: str = "abc"
) -> None:
    """The real-data floor of ``dataset`` (``key``: its protocol's)."""
    record = {"run_id": f"{dataset}-floor-{key}", "dataset": dataset, "model": FLOOR_MODEL, "seed": None}
    write_floor(out, RunRecord.from_dict({**record, "status": "floor", "metrics": metrics}))


def write_pictures(folder: RunFolder, seed: int, encoder: bool) -> None:
    """Noise (which compresses worse than digits do) on black, about as much as a digit covers, in the
    pictures a run on 8x8 digits draws, at their real sizes; and its curves from a training log of 80
    rows with held-out and eval points."""
    generator = torch.Generator().manual_seed(seed)

    def noise(n: int) -> torch.Tensor:
        ink = torch.rand(n, 1, 8, 8, generator=generator) < 0.4
        return torch.randint(0, 256, (n, 1, 8, 8), generator=generator, dtype=torch.uint8) * ink

    title = "what the picture shows, as genbench.figures.pictures writes it, long enough to wrap"
    save_image_grid(noise(64), 8, folder.file("samples.png"))
    kimgs = [f"{0.4 * i:.3g} kimg" for i in range(11)]
    save_image_grid(noise(11 * 16), 16, folder.file("progress.png"), kimgs, title)
    pairs = [f"z{p} to z{p + 8}" for p in range(1, 9)]
    save_image_grid(noise(80), 10, folder.file("interpolation.png"), pairs, title)
    if encoder:
        pairs = [f"test {p} to {p + 8}" for p in range(1, 9)]
        save_image_grid(noise(96), 12, folder.file("interpolation_encoded.png"), pairs, title)
    nearest = tuple(NearestPair(p, 100 + p, 4.0 + p / 3) for p in range(8))
    gallery = CopyingGallery(nearest, 1000, 180, 12.0, 3.81, 0.003, "genbench-classifier/refclf-v2")
    save_copying_gallery(gallery, noise(8), noise(108), folder.file("copying.png"))
    (folder.file("copying.json")).write_text(json.dumps(gallery.to_dict()))
    for i in range(1, 81):
        row: dict[str, Any] = {"step": 10 * i, "kimg": 0.125 * i, "seconds": 0.3 * i}
        row |= {"loss_d": 1.0 + 0.3 * math.sin(i), "loss_g": 2.0 - 0.01 * i + 0.2 * math.cos(3 * i)}
        row |= {"recon": 30.0 - 0.05 * i + math.sin(i), "kl": 5.0 + 0.02 * i}
        if i % 8 == 0:
            row |= {"test/recon": 29.0 - 0.05 * i, "test/kl": 5.1 + 0.02 * i, "eval/fd_clf_1k": 400.0 / i}
        folder.append_log(row)
    write_run_curves(folder.path)


def four_runs(out: Path) -> Path:
    """Two models, two seeds each, every metric, every picture and curve, and the floor: the folder of
    issue 19's 4-run report."""
    for model, offset in (("dcgan", 1.0), ("vae", 1.5)):
        for seed in (0, 1):
            metrics = {k: v * (offset + 0.1 * seed) for k, v in ALL_METRICS.items()}
            write_pictures(write_run(out, model, seed, metrics), seed, encoder=model == "vae")
    write_floor_record(out, {k: v / 10 for k, v in ALL_METRICS.items()})
    return out
