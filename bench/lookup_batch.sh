#!/usr/bin/env bash
# bench/lookup_batch.sh: the memory of a batch `rovimpact lookup` (queries
# from standard input) and of one `lookup 0.0.0.0/0`, against the analyze
# run of the same table and VRPs, in one run on one machine (issue 12 item
# 7: a batch lookup stays within 2x the memory of the analysis it queries).
# With OLD=binary the same rows are measured for that binary too, and the
# outputs of both binaries are compared byte for byte (prefix answers
# must not change). See bench/README.md.
#
#   bench/lookup_batch.sh                 # 104000 prefixes of the PCH full table
#   N=20000 bench/lookup_batch.sh         # fewer queries
#   OLD=/tmp/rovimpact-0ecd395 bench/lookup_batch.sh   # also measure an older build
#   VRPS=file TABLE=file ROVIMPACT=bin    # as bench/lookup.sh
#
# Columns: wall seconds, peak RSS (MB) from GNU time (Debian package time),
# output MB and RSS as a multiple of the same binary's analyze --format
# json RSS. One run each: these are memory figures, which do not move with
# the machine's load the way times do.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
n=${N:-104000}

# The queries: n distinct prefixes of the table, a fixed sample (shuf with
# a constant random source), so every run and binary gets the same ones.
queries=$out/lookup-batch.queries
"$rovimpact" routes "$table" 2>/dev/null | awk -F'|' '$3 == "A" || $3 == "B" {print $6}' | sort -u >"$out/lookup-batch.prefixes"
shuf -n "$n" --random-source=<(yes 42) "$out/lookup-batch.prefixes" >"$queries"
echo "table $(basename "$table"): $(wc -l <"$out/lookup-batch.prefixes") prefixes; $(wc -l <"$queries") queries; load $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs" >&2

# measure NAME STDIN CMD...: sets wall, rss (MB) and size (MB of output).
measure() {
	local name=$1 in=$2
	shift 2
	/usr/bin/time -f '%e %M' -o "$out/time.txt" "$@" <"$in" >"$out/$name.out" 2>"$out/$name.err" || { echo "$name failed: $(tail -n3 "$out/$name.err")" >&2; exit 1; }
	wall=$(tail -n1 "$out/time.txt" | awk '{print $1}')
	rss=$(tail -n1 "$out/time.txt" | awk '{print $2 / 1024}')
	size=$(stat -c %s "$out/$name.out" | awk '{print $1 / 1e6}')
}

printf '%-10s %-30s %8s %8s %9s %s\n' binary run wall_s rss_MB out_MB rss/analyze
bench() {
	local label=$1 bin=$2
	measure "$label-analyze" /dev/null "$bin" analyze --vrps "$vrps" --format json "$table"
	local a_rss=$rss
	printf '%-10s %-30s %8.2f %8.0f %9.1f %s\n' "$label" "analyze --format json" "$wall" "$rss" "$size" "1.0x"
	measure "$label-batch" "$queries" "$bin" lookup --vrps "$vrps" --format json "$table"
	printf '%-10s %-30s %8.2f %8.0f %9.1f %s\n' "$label" "lookup $n prefixes (stdin)" "$wall" "$rss" "$size" "$(awk -v a="$rss" -v b="$a_rss" 'BEGIN {printf "%.2fx", a / b}')"
	measure "$label-default" /dev/null "$bin" lookup --vrps "$vrps" --format json 0.0.0.0/0 "$table"
	printf '%-10s %-30s %8.2f %8.0f %9.1f %s\n' "$label" "lookup 0.0.0.0/0" "$wall" "$rss" "$size" "$(awk -v a="$rss" -v b="$a_rss" 'BEGIN {printf "%.2fx", a / b}')"
}

bench new "$rovimpact"
if [ -n "${OLD:-}" ]; then
	bench old "$OLD"
	for r in batch default; do
		cmp -s "$out/old-$r.out" "$out/new-$r.out" && echo "$r: old and new output identical" >&2 || echo "$r: old and new output DIFFER" >&2
	done
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
