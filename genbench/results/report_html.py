"""The markup of the HTML report, written from the Jinja2 templates in genbench/results/templates with
autoescaping: every string from a record is escaped where it is written, never by hand.

One page with its styles, its one script and every picture inline (``data:`` URIs), so it opens from
disk and reaches nothing outside itself (its Content-Security-Policy forbids it).
"""

from __future__ import annotations

import functools
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from genbench.figures.palette import model_colour
from genbench.results.report_cells import shown
from genbench.results.report_numbers import interval_note, number, spread
from genbench.results.report_view import SECTIONS, dataset_view, raw_records, run_facts, slug

if TYPE_CHECKING:  # genbench.results.report renders through this module.
    from genbench.results.report_model import DatasetReport

POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'"
PAGE_TEMPLATE = "report.html.j2"
ASSETS = ("report.css", "report.js")  # Inlined as they are, never read as templates.


def table_id(dataset: str) -> str:
    """The id of a dataset's all-runs table."""
    return f"leaderboard-{slug(dataset)}"


def run_anchor(run_id: str) -> str:
    """The id of a run's section."""
    return f"run-{slug(run_id)}"


def breakable(name: str) -> Markup:
    """A column name that may break after each underscore (``precision_<wbr>clf_<wbr>1k``): a narrow
    column wraps its header instead of widening the table."""
    return Markup("_<wbr>").join(escape(part) for part in name.split("_"))


@functools.cache
def environment() -> Environment:
    """The templates' environment: autoescaped, strict about undefined names, with the report's
    filters."""
    env = Environment(
        loader=PackageLoader("genbench.results", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        number=number,
        spread=spread,
        interval_note=interval_note,
        breakable=breakable,
        colour=model_colour,
        slug=slug,
        table_id=table_id,
        run_anchor=run_anchor,
        run_facts=run_facts,
        raw_records=raw_records,
        shown=shown,
    )
    env.tests["differs"] = lambda values: len(values) > 1
    return env


def asset(name: str) -> Markup:
    """A stylesheet or script of the templates folder, verbatim (it is code of this package)."""
    env = environment()
    assert env.loader is not None  # Set above.
    source, _, _ = env.loader.get_source(env, name)
    return Markup(source)


def render_page(datasets: list[DatasetReport], out: Path, generated: str) -> str:
    """The whole page for the datasets of one output folder."""
    runs = [run for dataset in datasets for run in dataset.runs if not run.is_floor]
    models = {run.record.model for run in runs}
    try:
        version = metadata.version("genbench")
    except metadata.PackageNotFoundError:
        version = "(not installed)"
    counts = f"{_count(len(runs), 'run')} of {_count(len(models), 'model')}"
    counts += f" on {_count(len(datasets), 'dataset')}"
    style, script = (asset(name) for name in ASSETS)
    return (
        environment()
        .get_template(PAGE_TEMPLATE)
        .render(
            datasets=[dataset_view(dataset) for dataset in datasets],
            sections=SECTIONS,
            out=str(out),
            generated=generated,
            version=version,
            counts=counts,
            policy=POLICY,
            style=style,
            script=script,
        )
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
