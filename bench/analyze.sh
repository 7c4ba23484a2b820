#!/usr/bin/env bash
# bench/analyze.sh: `rovimpact analyze --vrps VRPS TABLE` against what an
# operator would otherwise start from, `bgpdump -m TABLE > /dev/null` (the
# Debian MRT reader), and against `rovimpact routes -q TABLE` (reading
# alone), in one run on one machine so the ratios mean something. See
# bench/README.md.
#
#   bench/analyze.sh                 # PCH full table + the 1M-prefix x 35-peer synthetic RIB
#   PEERS=10 bench/analyze.sh        # smaller synthetic RIB (generated once into bench/out/)
#   SYNTH=0 bench/analyze.sh         # PCH full table only (seconds)
#   REPEAT=3                         # runs per measurement; the fastest is kept (default 1)
#   VRPS=file                        # VRP file (default: the newest rpki-client export in shared/data/vrp)
#   ROVIMPACT=bin                    # use this binary instead of building ./cmd/rovimpact
#   TABLES="a.mrt b.gz"              # measure these tables instead
#
# Columns: wall seconds and peak RSS (MB) of each command, from GNU time
# (`/usr/bin/time -f "%e %M"`, Debian package time); an/bgpd = analyze time /
# bgpdump time; an/rt = analyze time / routes time (what validation, the
# table and the impact analysis add over reading). `routes` also formats
# every route as a text line (to /dev/null), which analyze does not, so it
# is an upper bound on reading alone. `vrps_only` is analyze on a one-route
# text file: loading and indexing the VRPs, the fixed cost inside every
# analyze row. analyze has no phase-time flag (nor an environment switch
# for one), so the split printed under the table is derived:
# table = analyze - vrps_only (reading, table, validation, classification,
# report), and table/rt compares that with routes. CPU seconds (user +
# system) are printed there too: on a shared machine they move less than
# wall time. cpu/bgpd is analyze's CPU time / bgpdump's, and the json
# columns are `analyze --format json` (issue 14's aims: table output <=
# 1.0x bgpdump, JSON <= 1.3x, in wall and CPU time).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
data=${DATA:-$root/../shared/data}
out=$root/bench/out
prefixes=${PREFIXES:-1000000}
peers=${PEERS:-35}
ipv6=${IPV6:-0}
repeat=${REPEAT:-1}
mkdir -p "$out"

command -v bgpdump >/dev/null || { echo "bgpdump not found (apt-get install bgpdump)" >&2; exit 1; }
/usr/bin/time -f %e true 2>/dev/null || { echo "GNU time not found at /usr/bin/time (apt-get install time)" >&2; exit 1; }

vrps=${VRPS:-}
if [ -z "$vrps" ]; then
	vrps=$(ls "$data"/vrp/vrps.rpki-client.*.json.bz2 2>/dev/null | sort | tail -n1 || true)
fi
[ -f "$vrps" ] || { echo "no VRP file (set VRPS= or put shared/data beside the repository)" >&2; exit 1; }

rovimpact=${ROVIMPACT:-$out/rovimpact}
[ -n "${ROVIMPACT:-}" ] || go build -o "$rovimpact" ./cmd/rovimpact

if [ -n "${TABLES:-}" ]; then
	read -r -a tables <<<"$TABLES"
else
	tables=("$data/mrt/updates.20151023.0201.pch-route-collector.as3856-fulltable.bgp4mp_et.gz")
	if [ "${SYNTH:-1}" = 1 ]; then
		syn=$out/synth-${prefixes}x${peers}-v6_${ipv6}.mrt
		if [ ! -f "$syn" ]; then
			go build -o "$out/synth" ./bench/synth
			echo "generating $syn" >&2
			"$out/synth" -prefixes "$prefixes" -peers "$peers" -ipv6 "$ipv6" -o "$syn"
		fi
		tables+=("$syn")
	fi
fi
for f in "${tables[@]}"; do [ -f "$f" ] || { echo "$f: no such file" >&2; exit 1; }; done

# measure CMD...: runs CMD $repeat times, stdout to /dev/null, and prints
# "seconds maxrss_kB exit cpu_seconds" of the fastest run (cpu = user +
# system, less sensitive than wall time to other jobs on the machine).
# Standard error of the last run is kept in $out/stderr.txt.
measure() {
	local best="" rss=0 rc=0 cpu=0 t r u s
	for _ in $(seq "$repeat"); do
		rc=0
		/usr/bin/time -f '%e %M %U %S' -o "$out/time.txt" "$@" >/dev/null 2>"$out/stderr.txt" || rc=$?
		read -r t r u s < <(tail -n1 "$out/time.txt") # after "Command exited..." if any
		if [ -z "$best" ] || (($(echo "$t < $best" | bc))); then best=$t; rss=$r; cpu=$(echo "$u + $s" | bc -l); fi
	done
	echo "$best $rss $rc $cpu"
}
mb() { echo "$1 / 1024" | bc -l; }
ratio() { if (($(echo "$2 > 0" | bc))); then echo "$1 / $2" | bc -l; else echo 0; fi; }

one=$out/one-route.txt
echo "192.0.2.0/24 64500" >"$one"

echo "# $(date -u +%FT%TZ) $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)," \
	"$(bgpdump -V 2>&1 | grep -o 'bgpdump version [0-9.]*'), $(go env GOVERSION), fastest of $repeat"
echo "# VRPs: $(basename "$vrps"); loadavg at start: $(cut -d' ' -f1-3 /proc/loadavg)"
read -r vt vr vc vu < <(measure "$rovimpact" analyze --vrps "$vrps" "$one")
[ "$vc" = 0 ] || { echo "analyze on one route failed (exit $vc):" >&2; cat "$out/stderr.txt" >&2; exit 1; }

printf '%-44s %9s %7s %9s %7s %9s %7s %7s %8s %7s %9s %13s\n' table bgpdump_s MB routes_s MB analyze_s MB an/bgpd cpu/bgpd an/rt json/bgpd json_cpu/bgpd
splits=()
for f in "${tables[@]}"; do
	read -r bt br bc bu < <(measure bgpdump -m "$f")
	read -r rt rr rc ru < <(measure "$rovimpact" routes -q "$f")
	read -r at ar ac au < <(measure "$rovimpact" analyze --vrps "$vrps" "$f")
	read -r jt jr jc ju < <(measure "$rovimpact" analyze --format json --vrps "$vrps" "$f")
	note=""
	[ "$bc" != 0 ] && note+=" bgpdump_exit=$bc"
	[ "$rc" != 0 ] && note+=" routes_exit=$rc"
	[ "$ac" != 0 ] && note+=" analyze_exit=$ac"
	[ "$jc" != 0 ] && note+=" json_exit=$jc"
	name=$(basename "$f")
	[ ${#name} -le 44 ] || name=${name:0:41}...
	printf '%-44s %9.2f %7.0f %9.2f %7.0f %9.2f %7.0f %6.2fx %7.2fx %6.2fx %8.2fx %12.2fx%s\n' "$name" \
		"$bt" "$(mb "$br")" "$rt" "$(mb "$rr")" "$at" "$(mb "$ar")" \
		"$(ratio "$at" "$bt")" "$(ratio "$au" "$bu")" "$(ratio "$at" "$rt")" \
		"$(ratio "$jt" "$bt")" "$(ratio "$ju" "$bu")" "$note"
	tt=$(echo "$at - $vt" | bc -l)
	splits+=("$(printf '%-44s analyze %.2f s = vrps_only %.2f s + table %.2f s; table/rt %.2fx; cpu s: bgpdump %.2f routes %.2f analyze %.2f (vrps_only %.2f) json %.2f; json %.2f s %.0f MB' \
		"$name" "$at" "$vt" "$tt" "$(ratio "$tt" "$rt")" "$bu" "$ru" "$au" "$vu" "$ju" "$jt" "$(mb "$jr")")")
done
printf '%-44s %9s %7s %9s %7s %9.2f %7.0f\n' "vrps_only (analyze on one route)" - - - - "$vt" "$(mb "$vr")"
echo "# analyze split (derived):"
for s in "${splits[@]}"; do echo "#   $s"; done
echo "# loadavg at end: $(cut -d' ' -f1-3 /proc/loadavg)"
