"use strict";
// The report's one script (no libraries: the page must work from disk with no network).
// Click a header: sort its table by that column, best first for metrics (data-better), ascending for
// anything else; click again to reverse. Numbers compare as numbers (data-sort holds the exact value),
// empty cells go last either way, the floor row stays first, ties keep their order (stable sort).
// A link to something inside closed sections (a model, a run) opens them.
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
  function reveal() {
    const target = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
    for (let node = target; node; node = node.parentElement) {
      if (node.tagName === "DETAILS") { node.open = true; }
    }
    if (target) { target.scrollIntoView(); }
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    table.querySelectorAll("thead th").forEach(function (header, index) {
      header.addEventListener("click", function () { sortBy(table, header, index); });
    });
  });
  window.addEventListener("hashchange", reveal);
  reveal();
})();
