// rovimpact HTML report. Vanilla JS, no external resources, so the file
// works offline and from a mail attachment. The rows live once in the
// gzip+base64 JSON block #rovimpact-data (schema: reports/html_data.go);
// this script pages, sorts and filters them across all rows, rendering one
// page at a time, so a full table opens as fast as a small one. Without
// scripts the page keeps the rows rendered by Go (the first 100).
"use strict";
(function () {
  var R = window.rovimpact = { tables: {} };
  var FOLD = 3;
  var SEV = { unreachable: 4, more_specifics: 3, covered: 2, same_prefix: 1 };

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;" }[c];
    });
  }
  // fold mirrors Go's foldHTML: the first FOLD items and end, the rest
  // behind a <details> that opens ("+38 more"); one extra item is shown,
  // not folded.
  function fold(items, sep, end) {
    var shown = items.length > FOLD + 1 ? FOLD : items.length;
    var h = items.slice(0, shown).map(esc).join(sep);
    end = end || "";
    if (shown === items.length) return h + end;
    if (end) h += ", …" + end;
    return h + '<details class="more"><summary>+' + (items.length - shown) + " more</summary>" +
      items.slice(shown).map(esc).join(sep) + "</details>";
  }
  function prefixBits(p) { return parseInt(p.slice(p.indexOf("/") + 1), 10); }
  // prefixKey orders prefixes numerically as strings: family, address in
  // hex, length.
  function prefixKey(p) {
    var slash = p.indexOf("/"), a = p.slice(0, slash), bits = ("00" + p.slice(slash + 1)).slice(-3);
    if (a.indexOf(":") < 0) {
      return "4" + a.split(".").map(function (x) { return ("0" + parseInt(x, 10).toString(16)).slice(-2); }).join("") + bits;
    }
    var halves = a.split("::"), head = halves[0] ? halves[0].split(":") : [], tail = halves.length > 1 && halves[1] ? halves[1].split(":") : [];
    var groups = head.concat(new Array(Math.max(0, 8 - head.length - tail.length)).fill("0"), tail);
    return "6" + groups.map(function (g) { return ("000" + g).slice(-4); }).join("") + bits;
  }
  function vrpText(d, j) {
    var p = d.vrps.prefix[j], m = d.vrps.max_length[j];
    return (m === prefixBits(p) ? p : p + "-" + m) + " AS" + d.vrps.asn[j];
  }
  function asLabel(o) { return o === null ? "AS_SET" : "AS" + o; }
  function pctText(s) { return s > 0 ? Math.floor(100 * s + 0.5) + "%" : ""; }

  // Invalid routes: cells as Go's invalidRowHTML writes them.
  function invalidModel(d) {
    var c = d.invalids, n = c.prefix.length;
    function impactOf(i) { return c.dropped[i] ? d.impacts[c.impact[i]] : "kept"; }
    function coverText(i, html) {
      var j = c.cover[i];
      if (j < 0) return "";
      var origins = (d.covers.origins[j] || []).map(function (a) { return "AS" + a; });
      var s = esc(d.covers.prefix[j]) + " " + (html ? fold(origins, " ") : origins.join(" ")) + " (" + esc(d.covers.state[j]) + ")";
      if (c.other_origin[i]) {
        s += html ? ' <span class="mark other" title="no route at the cover has this route\'s origin AS">other AS</span>' : " other AS";
      }
      return s;
    }
    function row(i) {
      var cls = d.classes[c["class"][i]], imp = d.impacts[c.impact[i]];
      var h = "<tr><td>" + esc(c.prefix[i]) + "</td><td>";
      h += c.origin[i] === null ? "AS_SET {" + fold((c.as_set[i] || []).map(String), ", ", "}") : "AS" + c.origin[i];
      h += '</td><td><span class="tag c-' + esc(cls) + '">' + esc(cls) + "</span>";
      if (c.as0[i]) h += ' <span class="mark">AS0</span>';
      h += "</td><td>";
      if (!c.dropped[i]) h += '<span class="tag i-kept">kept (policy)</span>';
      else if (imp) h += '<span class="tag i-' + esc(imp) + '">' + esc(imp) + "</span>";
      h += '</td><td class="num">' + c.paths[i] + '</td><td class="num">' + c.peers[i] + "</td><td>" + coverText(i, true) +
        '</td><td class="num">' + pctText(c.covered_share[i]) + '</td><td class="vrps">' +
        fold((c.vrps[i] || []).map(function (j) { return vrpText(d, j); }), "<br>") + "</td></tr>";
      return h;
    }
    function text(i) {
      var o = c.origin[i] === null ? "as_set {" + (c.as_set[i] || []).join(", ") + "}" : "as" + c.origin[i];
      return [c.prefix[i], o, d.classes[c["class"][i]], c.as0[i] ? "as0" : "", c.dropped[i] ? d.impacts[c.impact[i]] : "kept (policy)",
        coverText(i, false), pctText(c.covered_share[i]), (c.vrps[i] || []).map(function (j) { return vrpText(d, j); }).join(" ")].join(" ").toLowerCase();
    }
    var keys = {
      prefix: function (i) { return prefixKey(c.prefix[i]); },
      origin: function (i) { return c.origin[i] === null ? 4294967296 : c.origin[i]; },
      "class": function (i) { return d.classes[c["class"][i]]; },
      impact: function (i) { return SEV[impactOf(i)] || 0; },
      paths: function (i) { return c.paths[i]; },
      peers: function (i) { return c.peers[i]; },
      cover: function (i) { return c.cover[i] < 0 ? "" : prefixKey(d.covers.prefix[c.cover[i]]); },
      share: function (i) { return c.covered_share[i]; },
      vrps: function (i) { return (c.vrps[i] || []).length; }
    };
    // defaultOrder is Go's defaultOrder: worst impact, most paths, row order.
    function defaultOrder() {
      var idx = [];
      for (var i = 0; i < n; i++) idx.push(i);
      return idx.sort(function (a, b) {
        return (keys.impact(b) - keys.impact(a)) || (c.paths[b] - c.paths[a]) || (a - b);
      });
    }
    return { n: n, row: row, text: text, keys: keys, defaultOrder: defaultOrder };
  }

  function originModel(d) {
    var o = d.origins, n = o.origin.length;
    var keys = {
      origin: function (i) { return o.origin[i] === null ? 4294967296 : o.origin[i]; },
      invalid: function (i) { return o.invalid[i]; },
      unreachable: function (i) { return o.unreachable[i]; }
    };
    [0, 1, 2, 3, 4].forEach(function (k) { keys["c" + k] = function (i) { return o.classes[i][k]; }; });
    function row(i) {
      return "<tr><td>" + asLabel(o.origin[i]) + '</td><td class="num">' + o.invalid[i] + '</td><td class="num">' + o.unreachable[i] + "</td>" +
        o.classes[i].map(function (x) { return '<td class="num">' + x + "</td>"; }).join("") + "</tr>";
    }
    function text(i) { return asLabel(o.origin[i]).toLowerCase(); }
    return { n: n, row: row, text: text, keys: keys, defaultOrder: function () { var a = []; for (var i = 0; i < n; i++) a.push(i); return a; } };
  }

  function lifetimeModel(d) {
    var l = d.lifetimes, n = l.prefix.length;
    function cur(i) { return l.current[i] ? "yes" : "no"; }
    var keys = {
      prefix: function (i) { return prefixKey(l.prefix[i]); },
      origin: function (i) { return l.origin[i] === null ? 4294967296 : l.origin[i]; },
      first: function (i) { return l.first[i]; }, last: function (i) { return l.last[i]; },
      runs: function (i) { return l.runs[i]; }, current: cur,
      "class": function (i) { return l["class"][i]; }, impact: function (i) { return l.impact[i]; }
    };
    function row(i) {
      return "<tr><td>" + esc(l.prefix[i]) + "</td><td>" + asLabel(l.origin[i]) + "</td><td>" + esc(l.first[i]) + "</td><td>" + esc(l.last[i]) +
        '</td><td class="num">' + l.runs[i] + "</td><td>" + cur(i) + "</td><td>" + esc(l["class"][i]) + "</td><td>" + esc(l.impact[i]) + "</td></tr>";
    }
    function text(i) { return [l.prefix[i], asLabel(l.origin[i]), l.first[i], l.last[i], cur(i), l["class"][i], l.impact[i]].join(" ").toLowerCase(); }
    return { n: n, row: row, text: text, keys: keys, defaultOrder: function () { var a = []; for (var i = 0; i < n; i++) a.push(i); return a; } };
  }

  // ASPA-invalid and unverified paths: cells as Go's aspaPathRowHTML
  // writes them.
  function aspaPathModel(d) {
    var a = d.aspa_paths, n = a.prefix.length;
    function peer(i) { return "AS" + a.peer_as[i] + (a.peer_ip[i] ? " " + a.peer_ip[i] : ""); }
    function why(i) { return (a.state[i] === "unverified" ? "unverified: " : "") + a.reason[i]; }
    function hops(i) {
      var h = [];
      [a.up[i], a.down[i]].forEach(function (x) { if (x) h.push("AS" + x[0] + ">AS" + x[1]); });
      if (a.reason[i] === "first_as") h.push("first AS" + a.first_as[i]);
      return h.join(" ");
    }
    function provs(i) {
      var out = [];
      [[a.up[i], a.up_providers[i]], [a.down[i], a.down_providers[i]]].forEach(function (x) {
        if (!x[0]) return;
        var items = x[1].length ? x[1].map(function (p) { return "AS" + p; }) : ["none (AS0)"];
        out.push(fold(items, ", ", ""));
      });
      return out.join("<br>");
    }
    function route(i) { return a.survives[i] ? "kept" : "lost"; }
    var keys = {
      prefix: function (i) { return prefixKey(a.prefix[i]); },
      origin: function (i) { return a.origin[i] === null ? 4294967296 : a.origin[i]; },
      peer: function (i) { return a.peer_as[i]; }, role: function (i) { return a.role[i]; },
      reason: why, hop: hops, rov: function (i) { return a.rov[i]; }, route: route
    };
    function row(i) {
      return "<tr><td>" + esc(a.prefix[i]) + "</td><td>" + esc(asLabel(a.origin[i])) + "</td><td>" + esc(peer(i)) + "</td><td>" + esc(a.role[i]) +
        "</td><td>" + esc(why(i)) + "</td><td>" + esc(hops(i)) + "</td><td>" + provs(i) + "</td><td>" + esc(a.rov[i]) + "</td><td>" + route(i) + "</td></tr>";
    }
    function text(i) { return [a.prefix[i], asLabel(a.origin[i]), peer(i), a.role[i], why(i), hops(i), a.rov[i], route(i)].join(" ").toLowerCase(); }
    return { n: n, row: row, text: text, keys: keys, defaultOrder: function () { var o = []; for (var i = 0; i < n; i++) o.push(i); return o; } };
  }

  // Paged is one table showing `size` rows of a model at a time; sort and
  // filter work on every row, not just the page shown.
  function Paged(table, m) {
    var self = this;
    this.table = table; this.m = m; this.size = 100; this.page = 0; this.terms = [];
    this.order = m.defaultOrder(); this.view = this.order; this.hay = null; this.keyCache = {};
    this.count = document.querySelector('.count[data-for="' + table.id + '"]');
    this.pager = document.querySelector('.pager[data-for="' + table.id + '"]');
    this.pager.innerHTML = '<button type="button" data-go="first">« first</button> <button type="button" data-go="prev">‹ previous</button> ' +
      '<span class="pos"></span> <button type="button" data-go="next">next ›</button> <button type="button" data-go="last">last »</button> ' +
      '<label>rows per page <select><option>25</option><option selected>100</option><option>500</option><option>1000</option></select></label>';
    this.pager.addEventListener("click", function (ev) {
      var go = ev.target.getAttribute && ev.target.getAttribute("data-go");
      if (!go) return;
      var last = self.pages() - 1;
      self.show({ first: 0, prev: self.page - 1, next: self.page + 1, last: last }[go]);
    });
    this.pager.querySelector("select").addEventListener("change", function (ev) {
      self.size = parseInt(ev.target.value, 10); self.show(0);
    });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      var k = th.getAttribute("data-k");
      if (!k || !m.keys[k]) return;
      th.tabIndex = 0;
      th.addEventListener("click", function () {
        self.sort(k, th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending");
      });
    });
    var input = document.querySelector('input.filter[data-for="' + table.id + '"]');
    if (input) input.addEventListener("input", function () { self.filter(input.value); });
  }
  Paged.prototype.pages = function () { return Math.max(1, Math.ceil(this.view.length / this.size)); };
  Paged.prototype.keyArray = function (k) {
    if (!this.keyCache[k]) {
      var f = this.m.keys[k], a = new Array(this.m.n);
      for (var i = 0; i < this.m.n; i++) a[i] = f(i);
      this.keyCache[k] = a;
    }
    return this.keyCache[k];
  };
  // sort orders all rows by column k (ties: report order) and shows page 1.
  Paged.prototype.sort = function (k, dir) {
    var a = this.keyArray(k), s = dir === "descending" ? -1 : 1;
    this.order = this.order.slice().sort(function (x, y) {
      var p = a[x], q = a[y];
      return (p < q ? -s : p > q ? s : 0) || (x - y);
    });
    Array.prototype.forEach.call(this.table.tHead.rows[0].cells, function (th) {
      if (th.getAttribute("data-k") === k) th.setAttribute("aria-sort", dir); else th.removeAttribute("aria-sort");
    });
    this.sortedBy = k; this.sortDir = dir;
    this.apply();
  };
  // filter keeps the rows whose text holds every whitespace-separated term.
  Paged.prototype.filter = function (text) {
    this.terms = String(text).toLowerCase().split(/\s+/).filter(Boolean);
    if (this.terms.length && !this.hay) {
      this.hay = new Array(this.m.n);
      for (var i = 0; i < this.m.n; i++) this.hay[i] = this.m.text(i);
    }
    this.apply();
    return this.view.length;
  };
  Paged.prototype.apply = function () {
    var terms = this.terms, hay = this.hay;
    this.view = !terms.length ? this.order : this.order.filter(function (i) {
      for (var t = 0; t < terms.length; t++) if (hay[i].indexOf(terms[t]) < 0) return false;
      return true;
    });
    this.show(0);
  };
  Paged.prototype.show = function (page) {
    this.page = Math.min(Math.max(0, page), this.pages() - 1);
    var from = this.page * this.size, rows = this.view.slice(from, from + this.size);
    this.table.tBodies[0].innerHTML = rows.map(this.m.row).join("\n");
    var to = from + rows.length, total = this.view.length;
    var pos = total ? "rows " + (from + 1) + "–" + to + " of " + total : "no rows";
    this.pager.querySelector(".pos").textContent = pos + " · page " + (this.page + 1) + " of " + this.pages();
    if (this.count) this.count.textContent = total + " of " + this.m.n + " rows" + (this.terms.length ? " match" : "");
    var btn = this.pager.querySelectorAll("button");
    btn[0].disabled = btn[1].disabled = this.page === 0;
    btn[2].disabled = btn[3].disabled = this.page >= this.pages() - 1;
    this.shown = rows;
  };

  // Small server-rendered tables (inputs, peers): sort in place.
  function sortStatic(table, col, dir) {
    var tbody = table.tBodies[0], th = table.tHead.rows[0].cells[col], numeric = th.classList.contains("num");
    var rows = Array.prototype.slice.call(tbody.rows);
    rows.sort(function (a, b) {
      var x = a.cells[col].textContent.trim(), y = b.cells[col].textContent.trim(), c;
      if (numeric) c = (parseFloat(x) || 0) - (parseFloat(y) || 0); else c = x < y ? -1 : x > y ? 1 : 0;
      return dir === "descending" ? -c : c;
    });
    rows.forEach(function (r) { tbody.appendChild(r); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir);
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      th.addEventListener("click", function () { sortStatic(table, col, th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending"); });
    });
  });

  // Printing: open every fold so the paper shows whole lists.
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details.more:not([open])").forEach(function (el) { el.setAttribute("open", ""); el.setAttribute("data-printed", ""); });
  });
  window.addEventListener("afterprint", function () {
    document.querySelectorAll("details[data-printed]").forEach(function (el) { el.removeAttribute("open"); el.removeAttribute("data-printed"); });
  });

  function loadData() {
    var el = document.getElementById("rovimpact-data");
    if (!el) return Promise.reject(new Error("no data block"));
    if (typeof DecompressionStream !== "function") return Promise.reject(new Error("this browser has no DecompressionStream"));
    var bin = atob(el.textContent.replace(/\s+/g, "")), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).text().then(JSON.parse);
  }

  var fallback = {};
  R.ready = loadData().then(function (d) {
    if (d.version !== 1) throw new Error("data version " + d.version + ", this page reads 1");
    R.data = d;
    var models = { invalids: invalidModel, origins: originModel, lifetimes: lifetimeModel, "aspa-paths": aspaPathModel };
    Object.keys(models).forEach(function (id) {
      var table = document.getElementById(id);
      if (!table || (id === "lifetimes" && !d.lifetimes) || (id === "aspa-paths" && !d.aspa_paths)) return;
      fallback[id] = Array.prototype.map.call(table.tBodies[0].rows, function (r) { return r.textContent; });
      R.tables[id] = new Paged(table, models[id](d));
      R.tables[id].show(0);
    });
  }).catch(function (err) {
    var b = document.createElement("div");
    b.className = "banner warn";
    b.textContent = "Could not read the rows embedded in this file (" + err.message + "): each table shows its first rows only. The JSON and CSV reports have them all.";
    document.getElementById("banners").appendChild(b);
    throw err;
  });

  // Self-check, run when the URL ends in #selfcheck: the headless-browser
  // test reads its verdict from the DOM (chromium --dump-dom).
  if (location.hash !== "#selfcheck") return;
  var res = { errors: [] };
  function check(cond, msg) { if (!cond) res.errors.push(msg); }
  function finish() {
    res.ok = res.errors.length === 0;
    var out = document.getElementById("selfcheck");
    out.textContent = JSON.stringify(res);
    out.setAttribute("data-ok", String(res.ok));
  }
  document.querySelectorAll("svg.chart").forEach(function (svg) {
    res[svg.id] = svg.querySelectorAll("rect.bar, polyline.line, circle.pt").length;
    var box = svg.getBoundingClientRect();
    check(box.width > 0 && box.height > 0, svg.id + " has no size");
  });
  res.banners = Array.prototype.map.call(document.querySelectorAll("#banners .banner"), function (b) { return b.className.split(" ")[1] + ": " + b.textContent; });
  res.print_rules = Array.prototype.reduce.call(document.styleSheets, function (n, sh) {
    return n + Array.prototype.filter.call(sh.cssRules, function (r) { return r.media && r.media.mediaText === "print"; }).length;
  }, 0);
  check(res.print_rules > 0, "no print stylesheet");
  R.ready.then(function () {
    var t = R.tables.invalids, d = R.data, c = d.invalids, n = t.m.n;
    res.invalid_rows = n;
    // The first page the script renders is the page Go rendered.
    var now = Array.prototype.map.call(t.table.tBodies[0].rows, function (r) { return r.textContent; });
    var fb = fallback.invalids;
    res.fallback_rows = fb.length;
    var same = fb.length === Math.min(n, 100) && fb.every(function (x, i) { return x === now[i]; });
    check(same, "script's first page differs from the server-rendered rows");
    res.fallback_same = same;
    // Paging: every row appears on exactly one page.
    var seen = {}, pages = t.pages(), rowsSeen = 0;
    for (var p = 0; p < pages; p++) {
      t.show(p);
      check(t.table.tBodies[0].rows.length === Math.min(t.size, n - p * t.size), "page " + p + " has " + t.table.tBodies[0].rows.length + " rows");
      t.shown.forEach(function (i) { if (!seen[i]) { seen[i] = true; rowsSeen++; } });
    }
    res.pages = pages; res.paged_rows = rowsSeen;
    check(rowsSeen === n, "paging showed " + rowsSeen + " of " + n + " rows");
    // Sort by paths, descending, across all rows.
    t.sort("paths", "descending");
    var sorted = true;
    for (var k = 1; k < t.view.length; k++) if (c.paths[t.view[k]] > c.paths[t.view[k - 1]]) sorted = false;
    var maxPaths = Math.max.apply(null, c.paths);
    var first = t.table.tBodies[0].rows[0];
    sorted = sorted && t.view.length === n && parseInt(first.cells[4].textContent, 10) === maxPaths;
    check(sorted, "invalids not sorted by paths descending across all rows");
    res.sorted = sorted;
    t.sort("prefix", "ascending");
    var bypfx = true;
    for (k = 1; k < t.view.length; k++) if (t.view[k] < t.view[k - 1]) bypfx = false; // rows come in prefix order
    res.sorted_prefix = bypfx;
    check(bypfx, "prefix sort does not give the report's prefix order");
    // Filter across all rows.
    var unreachable = t.filter("unreachable");
    var rendered = Array.prototype.every.call(t.table.tBodies[0].rows, function (r) { return r.textContent.indexOf("unreachable") >= 0; });
    check(rendered, "filter left a non-matching row on the page");
    res.filtered_rows = unreachable;
    var lastRow = t.order[t.order.length - 1];
    var one = t.filter(c.prefix[lastRow] + " as" + (c.origin[lastRow] === null ? "_set" : c.origin[lastRow]));
    res.filter_last_row = one >= 1 && t.view.indexOf(lastRow) >= 0;
    check(res.filter_last_row, "filter did not find the last row (" + c.prefix[lastRow] + ")");
    // The other-AS mark: every row whose cover has another origin, and only those.
    res.other_as_rows = t.filter("other as");
    var marked = Array.prototype.every.call(t.table.tBodies[0].rows, function (r) { return !!r.querySelector(".mark.other"); });
    var want = 0;
    for (k = 0; k < n; k++) if (c.cover[k] >= 0 && c.other_origin[k]) want++;
    check(marked && res.other_as_rows === want, "filter 'other as' gave " + res.other_as_rows + " rows, " + want + " have the mark");
    t.filter("");
    res.unfiltered_rows = t.view.length;
    // Folding: a long VRP list shows FOLD VRPs and "+N more" that opens.
    var most = 0, mi = -1;
    for (var i = 0; i < n; i++) if ((c.vrps[i] || []).length > most) { most = c.vrps[i].length; mi = i; }
    res.most_vrps = most;
    if (most > FOLD + 1) {
      t.filter(c.prefix[mi]);
      var row = null;
      for (k = 0; k < t.shown.length; k++) if (t.shown[k] === mi) row = t.table.tBodies[0].rows[k];
      var det = row && row.querySelector("td.vrps details.more");
      res.fold_summary = det ? det.querySelector("summary").textContent : "";
      check(res.fold_summary === "+" + (most - FOLD) + " more", "fold says " + JSON.stringify(res.fold_summary) + " for " + most + " VRPs");
      var h0 = row ? row.getBoundingClientRect().height : 0;
      if (det) det.querySelector("summary").click();
      res.fold_opens = !!det && det.open && row.getBoundingClientRect().height > h0;
      res.folded_row_px = Math.round(h0);
      check(res.fold_opens, "the fold did not open");
      t.filter("");
    }
    // Printing opens every fold on the page.
    window.dispatchEvent(new Event("beforeprint"));
    res.print_opens = Array.prototype.every.call(document.querySelectorAll("details.more"), function (x) { return x.open; });
    window.dispatchEvent(new Event("afterprint"));
    if (R.tables.origins) res.origin_rows = R.tables.origins.m.n;
    var lt = R.tables.lifetimes;
    if (lt) {
      res.lifetime_rows = lt.m.n;
      check(lt.table.tBodies[0].rows.length === Math.min(lt.m.n, lt.size), "lifetimes page has " + lt.table.tBodies[0].rows.length + " rows");
      lt.sort("runs", "descending");
      var lr = d.lifetimes.runs, lok = true;
      for (k = 1; k < lt.view.length; k++) if (lr[lt.view[k]] > lr[lt.view[k - 1]]) lok = false;
      check(lok, "lifetimes not sorted by runs");
    }
    var at = R.tables["aspa-paths"];
    if (at) {
      var ab = at.table.tBodies[0], fa = fallback["aspa-paths"], same = fa.length === Math.min(at.m.n, 100);
      res.aspa_path_rows = at.m.n;
      check(ab.rows.length === Math.min(at.m.n, at.size), "aspa-paths page has " + ab.rows.length + " rows");
      for (k = 0; k < Math.min(fa.length, ab.rows.length); k++) if (ab.rows[k].textContent !== fa[k]) same = false;
      check(same, "aspa-paths: the script's rows differ from the rows Go rendered");
      res.aspa_lost = at.filter("lost");
      at.filter("");
      at.sort("prefix", "descending");
      var ap = d.aspa_paths.prefix, aok = true;
      for (k = 1; k < at.view.length; k++) if (prefixKey(ap[at.view[k]]) > prefixKey(ap[at.view[k - 1]])) aok = false;
      check(aok, "aspa-paths not sorted by prefix");
    }
    finish();
  }).catch(function (err) { check(false, "data: " + err.message); finish(); });
})();
