"""Where everything lives in an output folder: the one place that names its files and folders.

<out>/runs/<run id>/   config.json, train.jsonl, metrics.json, checkpoints, pictures, curves
<out>/floors/          the real-data floor record of each dataset and protocol
<out>/scores/          the record of each sample set scored by `genbench score`
<out>/evals/           the record of each finished run scored again by `genbench eval`
<out>/plots/<dataset>/ comparison plots (genbench report)
<out>/leaderboard.csv, <out>/report.html
"""

from __future__ import annotations

FLOOR_MODEL = "(real data floor)"

# Figure name -> file, in drawing order.
FIGURES = {"losses": "curves_losses.png", "estimates": "curves_estimates.png", "eval": "curves_eval.png"}

PROGRESS_FILE = "progress.png"

CLASSES_FILE = "classes.png"

INTERPOLATION_FILE = "interpolation.png"

ENCODED_INTERPOLATION_FILE = "interpolation_encoded.png"

# The copying gallery (genbench.core.copying_gallery): the picture and the indices and distances it shows.
COPYING_FILE = "copying.png"

COPYING_DATA_FILE = "copying.json"

PLOTS_DIR = "plots"

LEADERBOARD_FILE = "leaderboard.csv"

LEADERBOARD_LOCK = ".leaderboard.lock"

RUNS_DIR = "runs"

FLOORS_DIR = "floors"  # Real-data floor records, one per dataset and protocol (genbench.evaluation.floor).

SCORES_DIR = "scores"  # Records of sample sets scored by `genbench score`, one per file and evaluation.

EVALS_DIR = "evals"  # Records of finished runs scored again by `genbench eval`, one per run and evaluation.

CONFIG_FILE = "config.json"

TRAIN_LOG_FILE = "train.jsonl"

CHECKPOINT_FILE = "checkpoint.pt"

BEST_CHECKPOINT_FILE = "best.pt"

LOCK_FILE = ".lock"

SAMPLES_FILE = "samples.png"

METRICS_FILE = "metrics.json"

REPORT_FILE = "report.html"

RESUME_FILE = "resume.pt"

PREVIOUS_RESUME_FILE = "resume.prev.pt"

ERROR_LOG_FILE = "error.log"
