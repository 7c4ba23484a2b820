#!/usr/bin/env bash
# bench/html.sh: the HTML report of a full table, old binary against new in
# one run: file size, and first paint / time to interactive in headless
# Chromium (Debian package chromium). See the end of this comment for what
# each column means.
#
#   bench/html.sh                       # PCH full table + newest rpki-client VRPs; old = commit $BASE
#   BASE=0ecd395 bench/html.sh          # the baseline commit to build the old binary from (default 0ecd395)
#   OLD=bin NEW=bin bench/html.sh       # prebuilt binaries instead of building
#   TABLE=file VRPS=file                # other inputs
#   TIMEOUT=900                         # seconds allowed per Chromium run (default 900)
#   SKIP_OLD=1                          # new report only (the old one takes minutes)
#
# Each report is written by `rovimpact analyze TABLE --vrps VRPS --format
# html`. A probe script is appended to a copy of each file (after </html>,
# so the report itself is unchanged); it records, from the page's own
# Performance API, first-paint and first-contentful-paint, DOMContentLoaded
# and load, and for the new report rows_ready (the embedded rows decoded
# and the first page rendered by the script: sort and filter work from
# then on). Chromium runs as
#   chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run
#     --disable-background-networking --disable-component-update --disable-sync
#     --user-data-dir=<fresh tmp> --virtual-time-budget=60000 --dump-dom FILE
# (virtual time makes headless Chromium produce frames, hence paint
# entries; --dump-dom returns the DOM with the probe's figures). Under
# --virtual-time-budget the page's clock is Chromium's virtual clock: it
# follows real time while the page is busy but is capped by the budget, so
# a page that needs more than the budget (the old report) shows about 60000
# there; wall, the whole Chromium process in real seconds, is the honest
# figure, and blank (an empty page: Chromium's own start-up and exit on
# this machine) is what to subtract from it. On a shared machine run it
# twice: wall times move with the load.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
data=${DATA:-$root/../shared/data}
out=$root/bench/out/html
base=${BASE:-0ecd395}
timeout=${TIMEOUT:-900}
mkdir -p "$out"

chromium=$(command -v chromium || command -v chromium-browser || true)
[ -n "$chromium" ] || { echo "chromium not found (apt-get install chromium)" >&2; exit 1; }
table=${TABLE:-$data/mrt/updates.20151023.0201.pch-route-collector.as3856-fulltable.bgp4mp_et.gz}
vrps=${VRPS:-$(ls "$data"/vrp/vrps.rpki-client.*.json.bz2 2>/dev/null | sort | tail -n1 || true)}
[ -f "$table" ] && [ -f "$vrps" ] || { echo "no table or VRP file (set TABLE= and VRPS=)" >&2; exit 1; }

new=${NEW:-$out/rovimpact-new}
[ -n "${NEW:-}" ] || go build -o "$new" ./cmd/rovimpact
old=${OLD:-$out/rovimpact-$base}
if [ -z "${OLD:-}" ] && [ "${SKIP_OLD:-0}" != 1 ] && [ ! -x "$old" ]; then
	src=$(mktemp -d)
	git archive "$base" | tar -x -C "$src"
	(cd "$src" && go build -o "$old" ./cmd/rovimpact)
	rm -rf "$src"
fi

cat >"$out/probe.html" <<'PROBE'
<script>
(function () {
  function out(k, v) {
    var el = document.getElementById("bench-probe");
    if (!el) { el = document.createElement("pre"); el.id = "bench-probe"; el.textContent = "{}"; document.body.appendChild(el); }
    var o = JSON.parse(el.textContent); o[k] = Math.round(v); el.textContent = JSON.stringify(o);
  }
  // Paint entries may come after load: observe them (buffered: also the
  // ones before this script ran).
  new PerformanceObserver(function (list) {
    list.getEntries().forEach(function (e) { if (document.body) out(e.name, e.startTime); });
  }).observe({ type: "paint", buffered: true });
  window.addEventListener("load", function () {
    performance.getEntriesByType("paint").forEach(function (e) { out(e.name, e.startTime); });
    out("dom_content_loaded", performance.getEntriesByType("navigation")[0].domContentLoadedEventEnd);
    out("load", performance.now());
    if (window.rovimpact && window.rovimpact.ready) window.rovimpact.ready.then(function () { out("rows_ready", performance.now()); });
  });
})();
</script>
PROBE
echo "<!DOCTYPE html><html><body>blank</body></html>" >"$out/blank.html"

# chrome FILE: prints "wall_seconds probe_json".
chrome() {
	local prof t0 t1 dom
	prof=$(mktemp -d)
	t0=$(date +%s.%N)
	dom=$(timeout "$timeout" "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync --user-data-dir="$prof" \
		--window-size=1280,2000 --virtual-time-budget=60000 --dump-dom "file://$1" 2>/dev/null) || dom="TIMEOUT"
	t1=$(date +%s.%N)
	rm -rf "$prof"
	if [ "$dom" = TIMEOUT ]; then
		echo "timeout>${timeout}s {}"
		return
	fi
	echo "$(echo "$t1 - $t0" | bc) $(grep -o '<pre id="bench-probe">[^<]*' <<<"$dom" | sed 's/.*>//' || echo '{}')"
}

printf '%-6s %12s %9s  %s\n' report bytes wall_s "probe (ms, page's Performance API)"
read -r w p < <(chrome "$out/blank.html")
printf '%-6s %12s %9s  %s\n' blank - "$w" "$p"
declare -A size
for which in old new; do
	bin=$old
	[ "$which" = new ] && bin=$new
	[ "$which" = old ] && [ "${SKIP_OLD:-0}" = 1 ] && continue
	"$bin" analyze "$table" --vrps "$vrps" --format html >"$out/$which.html" 2>/dev/null
	size[$which]=$(stat -c %s "$out/$which.html")
	cat "$out/$which.html" "$out/probe.html" >"$out/$which.probe.html"
	read -r w p < <(chrome "$out/$which.probe.html")
	printf '%-6s %12s %9s  %s\n' "$which" "${size[$which]}" "$w" "$p"
done
if [ -n "${size[old]:-}" ]; then
	echo "size new/old: $(echo "scale=4; ${size[new]} / ${size[old]}" | bc)"
fi
