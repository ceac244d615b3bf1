"""The report's feature-space agreement section for one dataset: Kendall's τ between the models'
rankings in each pair of feature spaces and the pairs whose order flips (genbench.results.agreement).
Self-contained markup, so whichever way the page is assembled it includes this one function's output."""

from __future__ import annotations

import html

import pandas as pd

from genbench.results.agreement import feature_space_agreement


def agreement_section(frame: pd.DataFrame) -> str:
    """HTML for the agreement of one dataset's leaderboard ``frame`` across feature spaces; empty where
    fewer than two models were scored in two spaces."""
    parts = []
    for found in feature_space_agreement(frame):
        rows = "".join(
            f"<tr><td>{html.escape(a)}</td><td>{html.escape(b)}</td><td>{tau:+.2f}</td></tr>"
            for (a, b), tau in found.tau.items()
        )
        flips = "".join(
            f"<li>{html.escape(f.better)} ahead of {html.escape(f.worse)} in {html.escape(f.space)}, "
            f"behind in {html.escape(f.other)}</li>"
            for f in found.flips
        )
        verdict = (
            f"<p>Order flips:</p><ul>{flips}</ul>" if flips else "<p>Every space orders the models alike.</p>"
        )
        parts.append(
            f'<table class="agreement"><thead><tr><th>space</th><th>space</th><th>Kendall τ</th></tr></thead>'
            f"<tbody>{rows}</tbody></table>{verdict}"
        )
    if not parts:
        return ""
    note = (
        '<p class="note">Models ranked by mean FD over seeds in each feature space; τ = 1: the same '
        "order. A ranking that holds in one space only is a property of that space.</p>"
    )
    return f"<h3>Feature-space agreement</h3>{note}{''.join(parts)}"
