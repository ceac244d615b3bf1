"""The HTML report: one self-contained page gathering everything under an output folder.

It reads what ``genbench run`` wrote (run records and configs, each run's pictures and curves, each
dataset's comparison plots, the real-data floors; their file names in :mod:`genbench.core.layout`) into the
page's data (:mod:`genbench.results.report_model`) and hands it to :mod:`genbench.results.report_html`
for the markup. Nothing is recomputed: the leaderboard is :mod:`genbench.results.leaderboard`'s, every
number is a record's.
"""

from __future__ import annotations

import datetime
import struct
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from genbench.core.copying_gallery import read_gallery
from genbench.core.files import atomic_write_text, is_read_only
from genbench.core.layout import (
    CLASSES_FILE,
    COPYING_DATA_FILE,
    COPYING_FILE,
    ENCODED_INTERPOLATION_FILE,
    FLOOR_MODEL,
    INTERPOLATION_FILE,
    PLOTS_DIR,
    PROGRESS_FILE,
    REPORT_FILE,
    RUNS_DIR,
    SAMPLES_FILE,
)
from genbench.core.layout import FIGURES as CURVE_FILES
from genbench.core.record import RunRecord
from genbench.core.run_spec import RunSpec, SpecError
from genbench.errors import UserError
from genbench.figures.curves import write_run_curves
from genbench.results.comparison import CHART_PREFIX, write_comparison_plots
from genbench.results.leaderboard import read_records, records_frame
from genbench.results.records import RunFolder, train_log_problem
from genbench.results.report_html import render_page
from genbench.results.report_model import _PNG_SIGNATURE, DatasetReport, Picture, Run

# A run's pictures in the order the page shows them, each with what it shows (see
# genbench.figures.pictures and genbench.figures.curves). Any other PNG in a run folder follows them,
# captioned with its file name.
RUN_PICTURES: dict[str, str] = {
    SAMPLES_FILE: "Final samples: the first 64 of the evaluated samples, drawn after training with the "
    "run's seed (one column per class for conditional models).",
    CLASSES_FILE: "Samples of each class, one row per class; with a latent API, each column decodes one "
    "latent for every class.",
    PROGRESS_FILE: "Training progress: the same 16 fixed latents (the same for every model and run) "
    "sampled at regular points of training, one row per point, in training order.",
    INTERPOLATION_FILE: "Interpolations: each row a path between two latents drawn from the prior, "
    "endpoints included.",
    ENCODED_INTERPOLATION_FILE: "Interpolations between real test images: each row a real image, the "
    "images decoded along the line from its code to another's (the ends are the model's reconstructions), "
    "then that other real image.",
    COPYING_FILE: "Copying gallery (copying_clf): the samples nearest to a training image in the reference "
    "classifier's features, one per training image, nearest first; each row a sample beside that training "
    "image, labelled with their distance d. A copy reads as an identical pair at d near 0, far nearer than "
    "the nearest held-out real image; a model that does not copy shows pairs that merely look alike, about "
    "as far apart as the nearest held-out image is from its nearest training image. These are the nearest "
    "of many samples: read them against the nearest held-out image, not the median.",
    CURVE_FILES["losses"]: "Training losses from train.jsonl against kimg, all networks on one axis; "
    "faint: raw, bold: a centred moving mean (no lag), the same for held-out points; a training value, "
    "the mean over its log interval, is drawn at the middle of that interval.",
    CURVE_FILES["estimates"]: "Every other scalar the model logs (its own divergence estimates and "
    "diagnostics), one panel each, with its held-out test/ points; train and held-out are smoothed "
    "alike (faint: raw, bold: a centred moving mean, no lag) and a training value (the mean over its "
    "log interval) is drawn at the middle of its interval, so a gap between them is in the values.",
    CURVE_FILES["eval"]: "Every eval/ metric measured during training (--eval-every), one panel each.",
}


@dataclass
class ReportResult:
    """What :func:`build_report` did: the page, and one line for each thing it left out or could not
    draw (a damaged record, picture or config; a folder it could not write its figures in)."""

    page: Path
    notes: list[str] = field(default_factory=list)


def build_report(out: Path, destination: Path | None = None) -> ReportResult:
    """The report's three steps: each run's curves from its log, each dataset's comparison plots, then
    the page (:func:`write_report`). Where ``out`` cannot be written, the figures already in it are
    used (and the page must go to another ``destination``)."""
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:  # Damaged files become notes, not warnings.
        warnings.simplefilter("always")
        try:
            for run_dir in sorted((out / RUNS_DIR).glob("*/")):
                if (problem := train_log_problem(run_dir)) is not None:
                    notes.append(f"report: {problem}")  # Once, before the curves drawn from what remains.
                write_run_curves(run_dir, redraw=False)  # Those of older logs or genbench versions.
            write_comparison_plots(out)
        except OSError as error:
            if not is_read_only(error):
                raise
            notes.append(f"{out} cannot be written ({error.strerror}): using the figures already in it")
        try:
            page = write_report(out, destination, notes)
        except OSError as error:
            if not is_read_only(error):
                raise
            where = destination or out / REPORT_FILE
            message = f"cannot write {where} ({error.strerror}): pass --output ELSEWHERE.html"
            raise UserError(message) from None
    notes += [" ".join(str(warning.message).split()) for warning in caught]
    return ReportResult(page, notes)


def write_report(out: Path, destination: Path | None = None, unreadable: list[str] | None = None) -> Path:
    """Write the HTML report of the output folder ``out`` to ``destination`` (default
    ``out/report.html``) atomically and return its path; a user error if ``out`` holds no readable
    run. Records that cannot be read are left out and, one line each, appended to ``unreadable``."""
    datasets = collect(out, unreadable)
    generated = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    path = destination if destination is not None else out / REPORT_FILE
    atomic_write_text(path, render_page(datasets, out, generated))
    return path


def collect(out: Path, unreadable: list[str] | None = None) -> list[DatasetReport]:
    """The datasets with runs under ``out``, each with its leaderboard, runs and plots."""
    found = read_records(out) if out.is_dir() else None
    records = found.records if found else []
    if unreadable is not None and found is not None:
        unreadable += found.unreadable
    if not any(record.model != FLOOR_MODEL for record in records):
        if found and found.unreadable:
            raise UserError(f"no readable run records in {out}: skipped {'; '.join(found.unreadable)}")
        raise UserError(f"no run records in {out}; run `genbench run --out {out}` first")
    frame = records_frame(records)
    runs = {record.run_id: _run(out, record) for record in records}
    datasets = []
    for name, rows in frame.groupby("dataset", sort=True, dropna=False):
        rows = rows.reset_index(drop=True)
        ordered = [runs[str(run_id)] for run_id in rows["run_id"] if str(run_id) in runs]
        plots = folder_pictures(out / PLOTS_DIR / str(name), {}, caption=_plot_caption)
        datasets.append(DatasetReport(str(name), rows, ordered, plots))
    return datasets


def _run(out: Path, record: RunRecord) -> Run:
    """A record with its spec and pictures (a floor, a scored sample set and a run's later evaluation
    by genbench eval have neither: the run's own row shows its pictures)."""
    if record.model == FLOOR_MODEL or record.external is not None or record.evaluation is not None:
        return Run(record)
    folder = out / RUNS_DIR / record.run_id
    spec: RunSpec | None = None
    try:  # Missing or damaged, another run's or changed against its checksum: said once, left out.
        spec = RunFolder(out, record.run_id).read_spec()
    except SpecError as error:  # One line naming the file and what is wrong with it.
        warnings.warn(f"report: skipping {error}", stacklevel=2)
    captions = dict(RUN_PICTURES)
    if record.progress_kimg:  # The kimg of each row of the progress strip, where recorded.
        rows = ", ".join(f"{kimg:g}" for kimg in record.progress_kimg)
        captions[PROGRESS_FILE] += f" Rows at kimg {rows}."
    captions[COPYING_FILE] += _copying_note(folder / COPYING_DATA_FILE)
    return Run(record, spec, folder_pictures(folder, captions, caption=lambda name: name))


def _copying_note(path: Path) -> str:
    """What the run's copying gallery data (``copying.json``) says in a sentence for the caption; "" where
    there is none, with a warning where it cannot be read."""
    if not path.exists():
        return ""
    try:
        gallery = read_gallery(path)
    except (OSError, ValueError) as error:
        warnings.warn(
            f"report: {path} cannot be read ({error}): the copying gallery goes without it", stacklevel=2
        )
        return ""
    nearest = f"the nearest pair at d {gallery.pairs[0].distance:.3g}; " if gallery.pairs else ""
    chance = 1 / (gallery.n_held_out + 1)
    return (
        f" Here: {nearest}of {gallery.n_held_out} held-out images, the nearest at d "
        f"{gallery.held_out_nearest:.3g}, the median at {gallery.held_out_median:.3g}; "
        f"{gallery.nearer_than_held_out:.1%} of the {gallery.n_samples} samples are nearer to a training "
        f"image than any held-out image (about {chance:.1%} for real images, most for a copier)."
    )


def folder_pictures(folder: Path, known: dict[str, str], caption: Callable[[str], str]) -> list[Picture]:
    """The readable PNGs of ``folder``: those named in ``known`` first, in its order and with its
    captions, then the others by name, captioned by ``caption(file name)``."""
    if not folder.is_dir():
        return []
    others = sorted(path.name for path in folder.glob("*.png") if path.name not in known)
    found = []
    for name in [*known, *others]:
        picture = read_png(folder / name, known.get(name) or caption(name))
        if picture is not None:
            found.append(picture)
    return found


def read_png(path: Path, caption: str) -> Picture | None:
    """``path`` as a :class:`Picture`, or None (with a warning) when it is not a whole PNG: the page
    never shows a broken image."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    # A whole PNG starts with the signature and an IHDR chunk (width, height) and ends with IEND.
    whole = len(data) >= 45 and data.startswith(_PNG_SIGNATURE) and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24]) if whole else (0, 0)
    if not whole or data[-8:-4] != b"IEND" or width == 0 or height == 0:
        warnings.warn(f"report: leaving out {path}: not a complete PNG file", stacklevel=2)
        return None
    return Picture(path.name, caption, data, width, height, png_dpi(data))


def png_dpi(data: bytes) -> float | None:
    """The resolution a whole PNG records (its pHYs chunk, in pixels per metre), or None."""
    position = len(_PNG_SIGNATURE)
    while position + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        if kind == b"pHYs" and length == 9:
            x, _, unit = struct.unpack(">IIB", data[position + 8 : position + 17])
            return round(x * 0.0254, 1) if unit == 1 and x else None  # Unit 1: the metre.
        if kind == b"IDAT":  # pHYs comes before the image data.
            return None
        position += 12 + length  # Length, type, data, CRC.
    return None


def _plot_caption(name: str) -> str:
    """What a comparison plot (genbench.results.comparison) shows, from its file name."""
    stem = name.removesuffix(".png")
    if stem.startswith(CHART_PREFIX):
        return (
            f"{stem.removeprefix(CHART_PREFIX)}: a dot per finished seed, the mean with its 95% interval; "
            "the real-data floor, if any, as a dashed line."
        )
    against = {"eval_vs_kimg": "images shown (kimg)", "eval_vs_seconds": "training seconds"}
    if stem in against:
        return (
            f"Every eval/ metric logged during training against {against[stem]}: one thin line per seed "
            "in its model's colour (finished runs)."
        )
    return stem
