#!/usr/bin/env bash
# bench/archive.sh: the cost of `rovimpact archive run` per unit, measured in
# one call of farm-bench so the ratios mean something (see docs/archive.md,
# "Speed"). Two comparisons on the shared data, each with the full
# rpki-client VRP export (723k entries):
#
#   1. archive run over 3 units sharing one VRP file (loaded once)
#      vs. analyze --per-peer once per RIB (the VRP file loaded 3 times):
#      the saving of sharing the VRP set across a day's units.
#   2. archive run over one tiny unit (the fixed cost: process start and
#      VRP load) vs. run 1's 3 units.
#
# The 3 units: the RouteViews route-views2 RIB head (270k paths, cut: run
# with --allow-partial), the RIS rrc05 2002 bview (116k paths), the PCH
# full table (578k paths, as updates).
#
#   RUNS=3 bench/archive.sh        # farm-bench -n (default 3)
#   ROVIMPACT=bin bench/archive.sh # use this binary instead of building it
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
data=${DATA:-$root/../shared/data}
out=$root/bench/out/archive
mkdir -p "$out"
bin=${ROVIMPACT:-$out/rovimpact}
[ -n "${ROVIMPACT:-}" ] || go build -o "$bin" ./cmd/rovimpact
command -v farm-bench >/dev/null || { echo "farm-bench not found" >&2; exit 1; }
vrps=$data/vrp/vrps.rpki-client.20250720T100143Z.json.bz2
ribs=("$data/mrt/rib.20140523.0600.route-views2.first1MB-truncated.bz2"
	"$data/mrt/bview.20020722.2337.ris-rrc05.table_dump_v1.gz"
	"$data/mrt/updates.20151023.0201.pch-route-collector.as3856-fulltable.bgp4mp_et.gz")
: >"$out/big.jsonl"
for r in "${ribs[@]}"; do
	printf '{"collector":"%s","time":"2025-07-20T12:00:00Z","rib":"%s","vrps":"%s"}\n' "$(basename "$r")" "$r" "$vrps" >>"$out/big.jsonl"
done
printf '{"collector":"tiny","time":"2025-07-20T12:00:00Z","rib":"%s","vrps":"%s"}\n' \
	"$root/archive/testdata/archive/ris/rrc05/2025.07/bview.20250720.0900.gz" "$vrps" >"$out/tiny.jsonl"
cat >"$out/archive3.sh" <<SH
#!/bin/sh
rm -rf "$out/o3" && exec "$bin" archive run "$out/big.jsonl" --out "$out/o3" -j 1 --allow-partial
SH
cat >"$out/tiny.sh" <<SH
#!/bin/sh
rm -rf "$out/o1" && exec "$bin" archive run "$out/tiny.jsonl" --out "$out/o1" -j 1
SH
{
	echo "#!/bin/sh"
	for r in "${ribs[@]}"; do
		echo "\"$bin\" analyze --per-peer --allow-partial --format json --vrps \"$vrps\" \"$r\" >/dev/null || exit 1"
	done
} >"$out/analyze3.sh"
chmod +x "$out"/*.sh
runs=${RUNS:-3}
farm-bench -n "$runs" --timeout 1200 --vs "$out/analyze3.sh" -- "$out/archive3.sh"
farm-bench -n "$runs" --timeout 600 --vs "$out/archive3.sh" -- "$out/tiny.sh"
