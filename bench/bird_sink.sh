#!/usr/bin/env bash
# bench/bird_sink.sh: how fast bird2 sends the PCH full table over a
# loopback BGP session on this machine when the receiver does nothing but
# count (bench/bgpsink: the collector watch uses, with no live table), set
# up as bench/watch_bird2.sh sets up bird (same static routes, config and
# ports scheme). It prints, per run, the paths/s to 99.9% of the table and
# to every path, and the CPU bird and the sink used, so that watch's rate
# in bench/watch_bird2.sh can be read against what the sender allows.
#
#   bench/bird_sink.sh
#   REPEAT=3 bench/bird_sink.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=$root/bench/out
table=${TABLE:-/work/shared/data/mrt/updates.20151023.0201.pch-route-collector.as3856-fulltable.bgp4mp_et.gz}
[ -r "$table" ] || table=$root/../shared/data/mrt/$(basename "$table")
timeout=${TIMEOUT:-600}
repeat=${REPEAT:-1}
sink_as=4200000002
for t in bird birdc python3; do
	command -v "$t" >/dev/null || { echo "bird_sink: $t not found (Debian packages bird2, python3)" >&2; exit 1; }
done
mkdir -p "$out"
go build -o "$out/bgpsink" ./bench/bgpsink
work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT INT TERM
cpu() { awk -v hz="$(getconf CLK_TCK)" '{sub(/^.*\) /, ""); printf "%.2f\n", ($12 + $13) / hz}' "/proc/$1/stat"; }
die() { echo "bird_sink: $*" >&2; exit 1; }
. "$root/bench/bird.sh"
bird_routes

run() {
	local bgp spid
	read -r bgp <<<"$(freeports 1)"
	bird_start "$bgp" "$sink_as"
	"$out/bgpsink" -listen "127.0.0.1:$bgp" -local-as "$sink_as" -neighbor "$bird_ip:$bird_as" -n "$want" -timeout "${timeout}s" >"$work/sink.out" 2>"$work/sink.err" &
	spid=$!
	pids+=("$spid")
	sleep 0.5
	local bcpu0
	bcpu0=$(cpu "$bpid")
	$birdc enable col >/dev/null || die "birdc enable col failed"
	wait "$spid" || die "sink failed: $(tail -3 "$work/sink.err")"
	local bcpu
	bcpu=$(python3 -c "print(round($(cpu "$bpid") - $bcpu0, 2))")
	kill "$bpid" 2>/dev/null || true
	wait "$bpid" 2>/dev/null || true
	local up most all scpu
	read -r _ up _ most _ all _ scpu <"$work/sink.out"
	python3 - <<EOF2
up, most, all, want = $up, $most, $all, $want
print(f"sink:    {want} paths; 99.9% after {most-up:.2f} s = {0.999*want/(most-up):,.0f} paths/s; all after {all-up:.2f} s = {want/(all-up):,.0f} paths/s")
print(f"cpu:     bird {$bcpu} s (to every path), sink {$scpu} s (its whole run)")
print(f"csv:     {want},{most-up:.3f},{0.999*want/(most-up):.0f},{all-up:.3f},{want/(all-up):.0f},{$bcpu},{$scpu}")
EOF2
}

echo "# bird2 -> bgpsink; $(bird --version 2>&1); table $(basename "$table"); $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 1; r <= repeat; r++)); do
	echo "## run $r"
	run
done
