#!/usr/bin/env bash
# bench/mrt.sh: bgpdump -m versus `rovimpact routes` on the same MRT files,
# in one run on one machine, so the ratios mean something. See bench/README.md.
#
#   bench/mrt.sh                  # shared MRT files + a 1M-prefix x 35-peer synthetic RIB
#   PREFIXES=100000 bench/mrt.sh  # smaller synthetic table
#   SYNTH=0 bench/mrt.sh          # shared files only
#   IPV6=15                       # IPv6 share of the synthetic RIB (default 0: IPv4-only like
#                                 # RouteViews rib.*; mixed files make bgpdump 1.6.2 spend most
#                                 # of its time in brk(2), see bench/README.md)
#   GZIP=1                        # also a gzip copy of the synthetic RIB
#   REPEAT=3                      # runs per measurement; the fastest is kept
#   ROVIMPACT=bin                 # use this binary instead of building ./cmd/rovimpact
#   GOBENCH=1                     # also run the Go benchmarks of ./mrt and ./internal/compressed
#
# Needs bgpdump (Debian package bgpdump) and GNU time at /usr/bin/time
# (Debian package time) for peak RSS; without GNU time only wall time is shown.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
data=${DATA:-$root/../shared/data}
out=$root/bench/out
prefixes=${PREFIXES:-1000000}
peers=${PEERS:-35}
ipv6=${IPV6:-0}
repeat=${REPEAT:-3}
mkdir -p "$out"

command -v bgpdump >/dev/null || { echo "bgpdump not found (apt-get install bgpdump)" >&2; exit 1; }
gnutime=""
if /usr/bin/time -f %e true 2>/dev/null; then gnutime=/usr/bin/time; else
	echo "note: /usr/bin/time missing (apt-get install time): no peak RSS" >&2
fi

rovimpact=${ROVIMPACT:-$out/rovimpact} # ROVIMPACT=path uses a prebuilt binary
[ -n "${ROVIMPACT:-}" ] || go build -o "$rovimpact" ./cmd/rovimpact
go build -o "$out/synth" ./bench/synth

files=()
for f in "$data"/mrt/*.gz "$data"/mrt/*.bz2; do [ -f "$f" ] && files+=("$f"); done
if [ "${SYNTH:-1}" = 1 ]; then
	syn=$out/synth-${prefixes}x${peers}-v6_${ipv6}.mrt
	if [ ! -f "$syn" ]; then
		echo "generating $syn" >&2
		"$out/synth" -prefixes "$prefixes" -peers "$peers" -ipv6 "$ipv6" -o "$syn"
	fi
	files+=("$syn")
	if [ "${GZIP:-0}" = 1 ]; then
		[ -f "$syn.gz" ] || "$out/synth" -prefixes "$prefixes" -peers "$peers" -ipv6 "$ipv6" -gzip -o "$syn.gz"
		files+=("$syn.gz")
	fi
fi

# measure CMD...: runs CMD $repeat times with stdout to /dev/null and prints
# "seconds maxrss_kB exit" of the fastest run.
measure() {
	local best="" rss=0 rc=0 t
	for _ in $(seq "$repeat"); do
		if [ -n "$gnutime" ]; then
			rc=0; $gnutime -f '%e %M' -o "$out/time.txt" "$@" >/dev/null 2>"$out/stderr.txt" || rc=$?
			read -r t r < <(tail -n1 "$out/time.txt") # after "Command exited..." if any
		else
			local s=$(date +%s.%N); rc=0; "$@" >/dev/null 2>"$out/stderr.txt" || rc=$?
			t=$(echo "$(date +%s.%N) - $s" | bc); r=0
		fi
		if [ -z "$best" ] || (( $(echo "$t < $best" | bc) )); then best=$t; rss=$r; fi
	done
	echo "$best $rss $rc"
}

echo "# $(date -u +%FT%TZ) $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(bgpdump -V 2>&1 | grep -o 'bgpdump version [0-9.]*'), fastest of $repeat"
printf '%-70s %9s %9s %7s %9s %9s\n' file bgpdump_s routes_s speedup bgpd_MB routes_MB
for f in "${files[@]}"; do
	read -r bt br bc < <(measure bgpdump -m "$f")
	read -r rt rr rc < <(measure "$rovimpact" routes -q "$f")
	note=""
	[ "$bc" != 0 ] && note+=" bgpdump_exit=$bc"
	[ "$rc" != 0 ] && note+=" routes_exit=$rc"
	printf '%-70s %9.2f %9.2f %6.2fx %9.0f %9.0f%s\n' "$(basename "$f")" "$bt" "$rt" \
		"$(echo "$bt / $rt" | bc -l)" "$(echo "$br / 1024" | bc -l)" "$(echo "$rr / 1024" | bc -l)" "$note"
done

if [ "${GOBENCH:-0}" = 1 ]; then
	if ls mrt/*_test.go >/dev/null 2>&1 && grep -q '^func Benchmark' mrt/*_test.go; then
		go test -run='^$' -bench=. -benchtime=3x ./mrt/
	fi
	go test -run='^$' -bench=. -benchtime=3x ./internal/compressed/
fi
