// rovimpact HTML report: sortable, filterable tables. Vanilla JS, no
// external resources, so the file works offline and from a mail attachment.
"use strict";
(function () {
  function cellValue(row, col) {
    var td = row.cells[col];
    if (!td) return "";
    var v = td.getAttribute("data-v");
    return v !== null ? v : td.textContent.trim();
  }
  function sortTable(table, col, dir) {
    var tbody = table.tBodies[0];
    var th = table.tHead.rows[0].cells[col];
    var numeric = th.classList.contains("num") || th.hasAttribute("data-num");
    var rows = Array.prototype.slice.call(tbody.rows);
    rows.sort(function (a, b) {
      var x = cellValue(a, col), y = cellValue(b, col), c;
      if (numeric) { c = (parseFloat(x) || 0) - (parseFloat(y) || 0); }
      else { c = x < y ? -1 : x > y ? 1 : 0; }
      return dir === "descending" ? -c : c;
    });
    rows.forEach(function (r) { tbody.appendChild(r); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir);
  }
  function filterTable(table, text) {
    var terms = text.toLowerCase().split(/\s+/).filter(Boolean), shown = 0;
    Array.prototype.forEach.call(table.tBodies[0].rows, function (r) {
      var t = r.textContent.toLowerCase();
      var ok = terms.every(function (term) { return t.indexOf(term) >= 0; });
      r.hidden = !ok;
      if (ok) shown++;
    });
    var count = document.querySelector('.count[data-for="' + table.id + '"]');
    if (count) count.textContent = shown + " of " + table.tBodies[0].rows.length + " rows";
    return shown;
  }
  window.rovimpact = { sortTable: sortTable, filterTable: filterTable };
  document.querySelectorAll("table.sortable").forEach(function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      th.addEventListener("click", function () {
        sortTable(table, col, th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending");
      });
    });
    filterTable(table, "");
  });
  document.querySelectorAll("input.filter").forEach(function (input) {
    var table = document.getElementById(input.getAttribute("data-for"));
    input.addEventListener("input", function () { filterTable(table, input.value); });
  });

  // Self-check, run when the URL ends in #selfcheck: the headless-browser
  // test reads its verdict from the DOM (chromium --dump-dom).
  if (location.hash !== "#selfcheck") return;
  var res = { errors: [] };
  function check(cond, msg) { if (!cond) res.errors.push(msg); }
  document.querySelectorAll("svg.chart").forEach(function (svg) {
    var marks = svg.querySelectorAll("rect.bar, polyline.line, circle.pt").length;
    res[svg.id] = marks;
    var box = svg.getBoundingClientRect();
    check(box.width > 0 && box.height > 0, svg.id + " has no size");
  });
  var inv = document.getElementById("invalids");
  if (inv) {
    var n = inv.tBodies[0].rows.length;
    res.invalid_rows = n;
    var pathsCol = Array.prototype.findIndex.call(inv.tHead.rows[0].cells, function (th) { return th.textContent.trim() === "Paths"; });
    sortTable(inv, pathsCol, "descending");
    var prev = Infinity, sorted = true;
    Array.prototype.forEach.call(inv.tBodies[0].rows, function (r) {
      var v = parseFloat(cellValue(r, pathsCol));
      if (v > prev) sorted = false;
      prev = v;
    });
    check(sorted, "invalids not sorted by paths descending");
    res.sorted = sorted;
    var shown = filterTable(inv, "unreachable");
    var allMatch = Array.prototype.every.call(inv.tBodies[0].rows, function (r) {
      return r.hidden || r.textContent.indexOf("unreachable") >= 0;
    });
    check(allMatch, "filter left a non-matching row visible");
    check(shown > 0 && shown < n, "filter 'unreachable' showed " + shown + " of " + n + " rows");
    res.filtered_rows = shown;
    filterTable(inv, "");
  }
  var org = document.getElementById("origins");
  if (org) res.origin_rows = org.tBodies[0].rows.length;
  res.ok = res.errors.length === 0;
  var out = document.getElementById("selfcheck");
  out.textContent = JSON.stringify(res);
  out.setAttribute("data-ok", String(res.ok));
})();
