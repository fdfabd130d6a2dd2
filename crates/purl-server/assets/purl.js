// PURL Ledger: progressive enhancement only; every page works without it.
// Tables marked "sortable" sort by a column when its heading is pressed (again: reversed).
"use strict";
(function () {
  function key(cell) {
    const text = cell.textContent.trim();
    const number = text.replace(/^[A-Z]{3} /, "").replace(/,/g, "");
    return /^-?\d+(\.\d+)?$/.test(number) ? parseFloat(number) : text.toLowerCase();
  }
  function sortBy(table, column, heading) {
    const body = table.tBodies[0];
    const ascending = heading.getAttribute("aria-sort") !== "ascending";
    const rows = Array.from(body.rows);
    rows.sort(function (a, b) {
      const x = key(a.cells[column]);
      const y = key(b.cells[column]);
      const order = x < y ? -1 : x > y ? 1 : 0;
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    table.querySelectorAll("th[aria-sort]").forEach(function (th) { th.removeAttribute("aria-sort"); });
    heading.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    const headings = table.tHead ? table.tHead.rows[0].cells : [];
    Array.from(headings).forEach(function (heading, column) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      button.textContent = heading.textContent;
      button.addEventListener("click", function () { sortBy(table, column, heading); });
      heading.textContent = "";
      heading.appendChild(button);
    });
  });
})();
