"""The README.md a results folder gets on first use: what each of its files and folders is.

The repository's own ``results/README.md`` is this text (a test keeps them equal), so the folder and
the documentation never describe two layouts. Paths are those of :mod:`genbench.core.layout`.
"""

from __future__ import annotations

from pathlib import Path

from genbench.core.files import atomic_write_text

README_FILE = "README.md"

FOLDER_README = """\
# A genbench results folder

`genbench run`, `genbench score` and `genbench eval` write here (`--out DIR`); `genbench leaderboard`,
`genbench show RUN` and `genbench report` read it. Every file is rebuilt or checked by genbench: delete a run folder and run
`genbench leaderboard` to drop it; delete `.cache/` to recompute classifiers and statistics.

| path | what |
|---|---|
| `README.md` | this file, written when the folder was first used |
| `runs/<dataset>-<model>-seed<N>-<hash>/` | one folder per run; the hash covers everything that affects the result (hyperparameters, budget, sample count, evaluation, device type, data and weights hashes) |
| `runs/…/config.json` | the run's spec (`schema_version`; genbench/core/run_spec.py): hyperparameters, training (budget, schedule, precision), evaluation settings, provenance (data and weights hashes, model plugin and genbench versions) and where it trained (device name, versions of python, torch, torchvision, torch-fidelity, genbench, each plugin's distribution), with a checksum of its content |
| `runs/…/train.jsonl` | one JSON object per logged interval: `step`, `kimg`, `seconds` and every scalar the model logs (means over the interval); `test/…` keys are the model's own estimates on the test split, `eval/…` the cheap metric |
| `runs/…/checkpoint.pt` | final networks and optimizer states (`torch.load(..., weights_only=True)`) |
| `runs/…/best.pt` | the networks when the cheap metric (`--eval-every`) was best; its SHA-256 beside it (`best.pt.sha256`), written before it, so that a resumed run can tell later best weights from damaged ones |
| `runs/…/resume.pt`, `resume.prev.pt` | while a run is unfinished: the last two resume checkpoints (networks, optimizers, RNGs, data order, progress, the scalars since the last log row), each holding its payload and the payload's SHA-256; removed when it finishes |
| `runs/…/samples.png` | a grid of 64 samples (one column per class for conditional models) |
| `runs/…/progress.png` | 16 fixed latents sampled at the start, at 10 points of training and at the end, one row each, labelled with its kimg (`progress_kimg` in metrics.json) |
| `runs/…/classes.png` | conditional models: one row per class |
| `runs/…/interpolation.png`, `interpolation_encoded.png` | interpolation between pairs of latents (spherical for Gaussian priors); VAEs also between two encoded test images (real images at both ends) |
| `runs/…/copying.png`, `copying.json` | with `copying_clf`: up to 8 samples nearest to a training image (one per training image), each beside that image with their distance in the reference classifier's features; the JSON holds each pair's sample index (among the evaluated samples), train-split index and distance, and the held-out test images' nearest and median distances they are read against |
| `runs/…/curves_losses.png`, `curves_estimates.png`, `curves_eval.png` | losses, the model's own estimates (train vs `test/`), the cheap metric, over kimg; train and held-out smoothed alike by a centred mean (faint: raw), raw data in train.jsonl |
| `runs/…/error.log` | the traceback of a run that failed |
| `runs/…/events.out.tfevents.*` | `--track tensorboard`: TensorBoard's event files, one per process that trained the run (`tensorboard --logdir runs`) |
| `runs/…/metrics.json` | status (`finished`, `failed`, `diverged` with `error`), metrics, trackers that failed (`tracker_failures`), how each was computed (`protocol`), budget, images seen, what stopped training, resumes, the cheap metric's final and best values, seconds by phase, device, the size and SHA-256 of `checkpoint.pt` and `best.pt` (`files`) and of `train.jsonl` with its rows (`train_log`), `schema_version`, a checksum of its own content; written last |
| `floors/<dataset>-floor-<hash>.json` | the real-data floor of each dataset and protocol (held-out real images scored like a model's samples), its one place: the leaderboard's `(real data floor)` rows, reused by later runs of the same protocol; its SHA-256 beside it (`.json.sha256`) |
| `scores/<dataset>-external-<label>-<hash>.json` | a sample set scored by `genbench score` (the leaderboard's `external:<label>` rows, without seed): its metrics under the same evaluation setup as the runs', the file's path and SHA-256 and the count scored (`external`); the hash covers the file's SHA-256 and the evaluation options, so scoring the same file again reuses it |
| `evals/<run id>-eval-<hash>.json` | a finished run scored again by `genbench eval` (the run's model and seed in the leaderboard, its `evaluation` column saying what differs from the run's own evaluation, e.g. `n_samples 500`, `best.pt`, `as run`; a `setup` of its own, so it is never pooled with the run's own evaluation): its metrics, the weights sampled and their SHA-256, the options (`evaluation`); the hash covers the run, the weights' SHA-256 and the evaluation options, so asking again reuses it |
| `leaderboard.csv` | one row per run (status and error included; `setup` is a hash of the run's config without the seed: runs sharing it are seeds of one experiment) and per floor, rebuilt from the records after every run (never appended) |
| `report.html` | the self-contained HTML page: written at the end of `genbench run` (unless `--no-report`) and by `genbench report` |
| `plots/<dataset>/` | the report's comparison plots: `metric_<metric>.png` (a row per model: a dot per seed, the mean with its 95% interval, the real-data floor), `eval_vs_kimg.png`, `eval_vs_seconds.png` |
| `.cache/classifiers/` | reference classifiers, one per dataset, keyed by a hash of the dataset's content, architecture and training recipe (seed included), with their test accuracy |
| `.cache/fidelity/` | torch-fidelity's cached features and statistics of the real reference images, keyed by dataset, split, count and classifier; `<key>.sha256.json` holds their SHA-256, recorded when genbench first used them |
| `.leaderboard.lock`, `runs/…/.lock`, `.cache/.<dataset>.lock` | only while a genbench process holds them: two processes sharing this folder take turns |

`GENBENCH_CACHE_DIR` moves `.cache/` elsewhere (one cache shared by several output folders).
"""  # noqa: E501  (table rows are one line each in Markdown)


def write_folder_readme(out: Path) -> None:
    """Write :data:`FOLDER_README` into ``out`` unless it has a README.md (never overwritten: it may
    be someone's own)."""
    path = out / README_FILE
    if not path.exists():
        atomic_write_text(path, FOLDER_README)
