"""The HTML report's inline stylesheet and its one script, the leaderboard sorter (vanilla JS, no
libraries: the page must work from disk with no network)."""

from __future__ import annotations

STYLE = """
:root { color-scheme: light; --line: #d0d7de; --muted: #57606a; --accent: #0969da; --bad: #cf222e; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328;
  max-width: 1280px; margin: 0 auto; padding: 1rem 2rem 4rem; }
h1 { margin-bottom: .2rem; }
h2 { border-bottom: 2px solid var(--line); padding-bottom: .2rem; margin-top: 2.5rem; }
h3 { margin-top: 2rem; }
h4 { font-size: 1.15rem; margin: 1.5rem 0 .2rem; }
h5 { font-size: 1rem; margin: 1rem 0 .5rem; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
code, pre { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { background: #f6f8fa; padding: .75rem; overflow: auto; max-height: 30rem; }
.meta, .note { color: var(--muted); }
.note { font-size: .9rem; }
.toc { background: #f6f8fa; border: 1px solid var(--line); border-radius: 6px; padding: .5rem 1.5rem; }
.toc h2 { border: 0; margin: .3rem 0; font-size: 1.1rem; }
.toc ul { margin: .2rem 0; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: .9rem; }
th, td { border-bottom: 1px solid var(--line); padding: .25rem .6rem; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.leaderboard th, .leaderboard td { white-space: nowrap; }
.leaderboard td.status-cell { white-space: normal; min-width: 14rem; }
.leaderboard thead th { position: sticky; top: 0; background: #fff; }
.leaderboard th button { font: inherit; font-weight: 600; background: none; border: 0; padding: 0;
  cursor: pointer; color: inherit; }
.leaderboard th[aria-sort="ascending"] button::after { content: " \\25B2"; }
.leaderboard th[aria-sort="descending"] button::after { content: " \\25BC"; }
.leaderboard tr.floor { background: #f6f8fa; font-style: italic; }
.leaderboard tbody tr:hover { background: #eef4ff; }
.status { font-size: .8rem; border-radius: 1rem; padding: 0 .5rem; background: #dafbe1; }
.status-failed, .status-diverged { background: #ffebe9; color: var(--bad); }
.status-floor { background: #ddf4ff; }
.error { color: var(--bad); white-space: pre-wrap; font-size: .85rem; max-width: 40rem; }
.notes dl { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; font-size: .85rem; }
.notes dt { font-family: ui-monospace, monospace; }
.notes dd { margin: 0; color: var(--muted); }
.run { border-left: 3px solid var(--line); padding-left: 1rem; margin: 1rem 0 2rem; }
.facts { display: flex; flex-wrap: wrap; gap: 1.5rem; align-items: flex-start; }
.kv caption { text-align: left; font-weight: 600; padding-bottom: .2rem; }
.kv th { font-weight: normal; color: var(--muted); }
.figures { display: flex; flex-wrap: wrap; gap: 1.5rem; margin: 1rem 0; align-items: flex-start; }
figure { margin: 0; max-width: 100%; }
figure img { display: block; max-width: 100%; height: auto; image-rendering: pixelated; }
figure.large { flex: 0 1 calc(50% - .75rem); }
figure.large img { width: 100%; cursor: zoom-in; image-rendering: auto; }
figure.large.zoom { flex-basis: 100%; }
figure.large.zoom img { cursor: zoom-out; }
figure.large figcaption { max-width: none; }
figcaption { font-size: .85rem; color: var(--muted); max-width: 36rem; }
.protocol td { max-width: 48rem; overflow-wrap: anywhere; }
.differs { color: var(--bad); }
"""

# Click a large figure to see it whole, again to shrink it. Click a header: sort its table by that
# column, best first for metrics (data-better), ascending for anything else; click again to reverse.
# Numbers compare as numbers (data-sort holds the exact value), empty cells go last either way, the
# floor row stays first, ties keep their order (stable sort).
SCRIPT = """
"use strict";
(function () {
  function key(row, index) {
    const cell = row.cells[index];
    return cell.dataset.sort !== undefined ? cell.dataset.sort : cell.textContent.trim();
  }
  function sortBy(table, header, index) {
    const first = header.dataset.better === "higher" ? "descending" : "ascending";
    const now = header.getAttribute("aria-sort");
    const direction = now === null ? first : (now === "ascending" ? "descending" : "ascending");
    table.querySelectorAll("thead th").forEach(function (th) { th.removeAttribute("aria-sort"); });
    header.setAttribute("aria-sort", direction);
    const sign = direction === "ascending" ? 1 : -1;
    const numeric = header.dataset.type === "number";
    const body = table.tBodies[0];
    const rows = Array.from(body.rows);
    rows.sort(function (a, b) {
      const floorA = a.classList.contains("floor"), floorB = b.classList.contains("floor");
      if (floorA !== floorB) { return floorA ? -1 : 1; }
      const x = key(a, index), y = key(b, index);
      if (x === "" || y === "") { return (x === "" ? 1 : 0) - (y === "" ? 1 : 0); }
      const order = numeric ? Number(x) - Number(y) : x.localeCompare(y, undefined, {numeric: true});
      return sign * order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }
  document.querySelectorAll("figure.large").forEach(function (figure) {
    figure.querySelector("img").addEventListener("click", function () { figure.classList.toggle("zoom"); });
  });
  document.querySelectorAll("table.sortable").forEach(function (table) {
    table.querySelectorAll("thead th").forEach(function (header, index) {
      header.addEventListener("click", function () { sortBy(table, header, index); });
    });
  });
})();
"""
