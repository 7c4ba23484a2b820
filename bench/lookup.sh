#!/usr/bin/env bash
# bench/lookup.sh: a cold `rovimpact lookup` (new process, one prefix and
# one AS query) from the original files against the same lookup from a
# snapshot (analyze --save / rovimpact snapshot), in one run on one machine
# so the ratios mean something. Also the snapshot's size and what --save
# adds to analyze. See bench/README.md.
#
#   bench/lookup.sh                  # real VRPs + PCH full table, 5 runs each
#   REPEAT=9 bench/lookup.sh         # runs per measurement; the median is kept
#   VRPS=file                        # VRP file (default: the newest rpki-client export in shared/data/vrp)
#   TABLE=file                       # route table (default: the PCH full table in shared/data/mrt)
#   ROVIMPACT=bin                    # use this binary instead of building ./cmd/rovimpact
#   QUERIES="1.1.1.0/24 AS13335"     # the lookup's queries
#
# Columns: median wall seconds, median CPU seconds (user + system: on a
# shared machine they move less than wall time) and median peak RSS (MB),
# from GNU time (`/usr/bin/time -f "%e %U %S %M"`, Debian package time).
# files/snap is the ratio of the file-based row to the snapshot row; the
# analyze --save row shows what --save adds (wall time is the noisier). Every
# lookup's output is compared with the file-based one: a snapshot that
# answers differently fails the script.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
repeat=${REPEAT:-5}
queries=${QUERIES:-"1.1.1.0/24 AS13335"}
read -r -a q <<<"$queries"

# median COLUMN: the median of the numbers on standard input.
median() { sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

# measure NAME CMD...: runs CMD $repeat times (stdout to $out/NAME.out,
# stderr to $out/NAME.err) and sets wall, cpu, rss to the medians.
measure() {
	local name=$1 runs=$out/$1.runs
	shift
	: >"$runs"
	for _ in $(seq "$repeat"); do
		/usr/bin/time -f '%e %U %S %M' -o "$out/time.txt" "$@" >"$out/$name.out" 2>"$out/$name.err"
		tail -n1 "$out/time.txt" >>"$runs"
	done
	wall=$(awk '{print $1}' "$runs" | median)
	cpu=$(awk '{print $2 + $3}' "$runs" | median)
	rss=$(awk '{print $4 / 1024}' "$runs" | median)
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1f", (b > 0) ? a / b : 0}'; }

row() { printf '%-34s %8.2f %8.2f %8.0f %s\n' "$1" "$2" "$3" "$4" "${5:-}"; }

snap=$out/lookup-full.rovsnap
vsnap=$out/lookup-vrps.rovsnap

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs; $repeat runs each, medians" >&2
printf '%-34s %8s %8s %8s %s\n' "" wall_s cpu_s rss_MB files/snap

# The extra cost of --save: analyze with and without it.
measure analyze "$rovimpact" analyze --vrps "$vrps" --format json "$table"
a_wall=$wall a_cpu=$cpu a_rss=$rss
measure analyze-save "$rovimpact" analyze --vrps "$vrps" --format json --save "$snap" "$table"
row "analyze" "$a_wall" "$a_cpu" "$a_rss"
row "analyze --save" "$wall" "$cpu" "$rss" "$(awk -v w="$wall" -v aw="$a_wall" -v c="$cpu" -v ac="$a_cpu" 'BEGIN {printf "%+.2f s wall, %+.2f s cpu", w - aw, c - ac}')"
# The report's generation time and VRP age move with the clock.
stamp='"(at|age_seconds)": '
cmp -s <(grep -Ev "$stamp" "$out/analyze.out") <(grep -Ev "$stamp" "$out/analyze-save.out") || { echo "analyze --save changed the report" >&2; exit 1; }
"$rovimpact" snapshot --vrps "$vrps" --output "$vsnap" >/dev/null 2>&1

# Lookups: VRPs only, then VRPs and the full table.
measure files-vrps "$rovimpact" lookup --vrps "$vrps" "${q[@]}"
f_wall=$wall f_cpu=$cpu f_rss=$rss
measure snap-vrps "$rovimpact" lookup --snapshot "$vsnap" "${q[@]}"
cmp -s "$out/files-vrps.out" "$out/snap-vrps.out" || { echo "the VRP snapshot answers differently" >&2; exit 1; }
row "lookup, VRPs only: files" "$f_wall" "$f_cpu" "$f_rss"
row "lookup, VRPs only: snapshot" "$wall" "$cpu" "$rss" "$(ratio "$f_wall" "$wall")x wall, $(ratio "$f_cpu" "$cpu")x cpu"

measure files-full "$rovimpact" lookup --vrps "$vrps" "${q[@]}" "$table"
f_wall=$wall f_cpu=$cpu f_rss=$rss
measure snap-full "$rovimpact" lookup --snapshot "$snap" "${q[@]}"
# From the files, a VRP file with ASPAs adds each route path's ASPA verdict
# (the route files are replayed for them); a snapshot keeps no paths, so
# that block is left out of the comparison.
noaspa() { awk '/^ASPA \(/ {skip = 1} skip && /^$/ {skip = 0; next} !skip' "$1"; }
cmp -s <(noaspa "$out/files-full.out") "$out/snap-full.out" || { echo "the full-table snapshot answers differently" >&2; exit 1; }
row "lookup, VRPs + full table: files" "$f_wall" "$f_cpu" "$f_rss"
row "lookup, VRPs + full table: snapshot" "$wall" "$cpu" "$rss" "$(ratio "$f_wall" "$wall")x wall, $(ratio "$f_cpu" "$cpu")x cpu"

printf 'snapshot sizes: full table %.1f MB, VRPs only %.1f MB (table input %.1f MB, VRP input %.1f MB)\n' \
	"$(($(stat -c %s "$snap"))).0e-6" "$(($(stat -c %s "$vsnap"))).0e-6" "$(($(stat -c %s "$table"))).0e-6" "$(($(stat -c %s "$vrps"))).0e-6"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
