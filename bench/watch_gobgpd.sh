#!/usr/bin/env bash
# bench/watch_gobgpd.sh: `rovimpact watch` receiving a full table over a real
# loopback BGP session from gobgpd (Debian package gobgpd), against
# `rovimpact analyze` of the same table, in one run on one machine:
#
#   - load time: from the session's session_up log line to the last path
#     held (the End-of-RIB log lines, then /metrics rovimpact_paths), and
#     paths/s over it;
#   - watch's VmRSS and VmHWM (/proc/PID/status) when idle with the VRPs
#     loaded, and at steady state holding the table; bytes per held path
#     all-in (VmRSS / paths) and for the table alone ((VmRSS - idle) / paths);
#   - analyze --vrps VRPS TABLE: wall time and peak RSS (GNU time), the
#     baseline; ratios watch / analyze.
#
# gobgpd's `gobgp mrt inject` reads only TABLE_DUMP_V2, so TABLE is first
# replayed into a RIB file by bench/mrt2rib (kept in bench/out/). gobgpd
# prepends its AS and sets itself as next hop, as an eBGP router does.
# Linux only; 127.0.0.1 only. Every wait is bounded (TIMEOUT seconds).
#
#   bench/watch_gobgpd.sh
#   REPEAT=2 bench/watch_gobgpd.sh
#   TABLE=file.mrt VRPS=vrps.json bench/watch_gobgpd.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=$root/bench/out
data=/work/shared/data
table=${TABLE:-$data/mrt/updates.20151023.0201.pch-route-collector.as3856-fulltable.bgp4mp_et.gz}
vrps=${VRPS:-$data/vrp/vrps.rpki-client.20250720T100143Z.json.bz2}
timeout=${TIMEOUT:-600}
repeat=${REPEAT:-1}
settle=${SETTLE:-5}
gobgp_as=4200000001
watch_as=4200000002

for t in gobgpd gobgp curl python3; do
	command -v "$t" >/dev/null || { echo "watch_gobgpd: $t not found (Debian packages gobgpd, curl, python3)" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "watch_gobgpd: /usr/bin/time not found (Debian package time)" >&2; exit 1; }
for f in "$table" "$vrps"; do
	[ -r "$f" ] || { echo "watch_gobgpd: cannot read $f" >&2; exit 1; }
done

mkdir -p "$out"
bin=${ROVIMPACT:-$out/rovimpact}
[ -n "${ROVIMPACT:-}" ] || go build -o "$bin" ./cmd/rovimpact
go build -o "$out/mrt2rib" ./bench/mrt2rib
rib=$out/watch_gobgpd.$(basename "$table").rib.mrt
if [ ! -s "$rib" ] || [ ! -s "$rib.info" ] || [ "$rib" -ot "$table" ]; then
	"$out/mrt2rib" -o "$rib" "$table" 2>"$rib.info" || { cat "$rib.info" >&2; exit 1; }
fi
cat "$rib.info"
# gobgpd keeps one best path per prefix: the watch will hold this many.
prefixes=$(sed -n 's/.* \([0-9]*\) prefixes,.*/\1/p' "$rib.info")
[ -n "$prefixes" ] || { echo "watch_gobgpd: no prefix count in $rib.info" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	# Keep the last run's logs for a look at what went wrong (or right).
	mkdir -p "$out/watch_gobgpd.logs"
	cp "$work"/*.log "$work"/*.toml "$out/watch_gobgpd.logs/" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

# freeports N: N distinct free TCP ports (all held open until all are
# chosen: one at a time, the kernel can hand out the same port twice, and
# bird then failed to bind its own, leaving the run waiting for TIMEOUT).
freeports() { python3 -c 'import socket, sys; ss = [socket.socket() for _ in range(int(sys.argv[1]))]; [s.bind(("127.0.0.1", 0)) for s in ss]; print(" ".join(str(s.getsockname()[1]) for s in ss))' "$1"; }
kb() { awk -v k="$1:" '$1==k {print $2}' "/proc/$2/status"; }
now() { date +%s.%N; }
# cpu PID: user+system CPU seconds PID has used so far.
cpu() { awk -v hz="$(getconf CLK_TCK)" '{sub(/^.*\) /, ""); printf "%.2f\n", ($12 + $13) / hz}' "/proc/$1/stat"; }
die() { echo "watch_gobgpd: $*" >&2; exit 1; }
# metric NAME: the value of an unlabelled gauge on watch's /metrics (or empty).
metric() { curl -sf --max-time 10 "http://$http/metrics" | awk -v m="$1" '$1==m {printf "%d\n", $2}'; }
# logtime EVENT: the time (Unix seconds) of watch's first JSON log line with msg EVENT.
logtime() {
	python3 - "$work/watch.log" "$1" <<'EOF'
import datetime, json, sys
for line in open(sys.argv[1]):
    try:
        d = json.loads(line)
    except ValueError:
        continue
    if d.get("msg") == sys.argv[2]:
        print(datetime.datetime.fromisoformat(d["time"].replace("Z", "+00:00")).timestamp())
        break
EOF
}

# analyze, the baseline: wall seconds and peak RSS.
/usr/bin/time -v -o "$work/analyze.time" "$bin" analyze --vrps "$vrps" "$table" >"$work/analyze.out" 2>"$work/analyze.err" ||
	die "analyze failed: $(tail -3 "$work/analyze.err")"
an_rss=$(awk -F: '/Maximum resident set size/ {gsub(/ /,"",$2); print $2}' "$work/analyze.time")
an_wall=$(awk '/Elapsed \(wall clock\)/ {n=split($NF,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$work/analyze.time")

run() {
	local api bgp hport gpid wpid
	read -r api bgp hport <<<"$(freeports 3)"
	http=127.0.0.1:$hport
	cat >"$work/gobgpd.toml" <<EOF
[global.config]
  as = $gobgp_as
  router-id = "192.0.2.1"
  port = -1
[[neighbors]]
  [neighbors.config]
    neighbor-address = "127.0.0.1"
    peer-as = $watch_as
    admin-down = true
  [neighbors.transport.config]
    remote-port = $bgp
    local-address = "127.0.0.1"
  [neighbors.timers.config]
    connect-retry = 1
  [neighbors.graceful-restart.config]
    enabled = true
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
    [neighbors.afi-safis.mp-graceful-restart.config]
      enabled = true
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
    [neighbors.afi-safis.mp-graceful-restart.config]
      enabled = true
EOF
	gobgpd -f "$work/gobgpd.toml" --api-hosts "127.0.0.1:$api" --pprof-disable -l warn >"$work/gobgpd.log" 2>&1 &
	gpid=$!
	pids+=("$gpid")
	local g="gobgp -u 127.0.0.1 -p $api"
	local i
	for ((i = 0; i < timeout * 5; i++)); do $g global >/dev/null 2>&1 && break; sleep 0.2; done
	$g global >/dev/null 2>&1 || die "gobgpd did not answer on 127.0.0.1:$api in ${timeout}s: $(tail -3 "$work/gobgpd.log")"

	# Load the table into gobgpd's global RIB (the session is still
	# admin-down), then wait until its prefix count stops growing.
	# `gobgp mrt inject` returns without closing its gRPC stream, so the
	# last few hundred paths still in flight are lost when it exits at end
	# of file (gobgpd held 577,095-577,359 of 577,703 prefixes in three
	# runs); reading a FIFO held open instead lost the record framing. The
	# watch is then checked against what gobgpd holds, and the gap is shown.
	rib_n() {
		local n=0 a c
		for a in ipv4 ipv6; do
			c=$($g global rib summary -a "$a" 2>/dev/null | awk -F'[ ,]+' '/Destination:/ {print $2}')
			n=$((n + ${c:-0}))
		done
		echo "$n"
	}
	local t0 t1
	t0=$(now)
	timeout "$timeout" $g mrt inject global "$rib" >"$work/inject.log" 2>&1 || die "gobgp mrt inject failed: $(tail -3 "$work/inject.log")"
	local want=0 prev=-1 same=0
	for ((i = 0; i < timeout; i++)); do
		want=$(rib_n)
		if [ "$want" -eq "$prev" ]; then same=$((same + 1)); else same=0; fi
		[ "$want" -ge "$prefixes" ] || [ "$same" -ge 3 ] && break
		prev=$want
		sleep 1
	done
	t1=$(now)
	[ "$want" -gt 0 ] || die "gobgpd holds no routes after inject: $(tail -3 "$work/inject.log")"
	[ "$want" -eq "$prefixes" ] || echo "watch_gobgpd: gobgpd holds $want of the table's $prefixes prefixes (gobgp mrt inject loses its last in-flight paths)" >&2
	local inject_s
	inject_s=$(python3 -c "print(round($t1-$t0,2))")

	"$bin" watch --local-as "$watch_as" --neighbor "127.0.0.1:$gobgp_as" --listen "127.0.0.1:$bgp" \
		--vrps "$vrps" --file-poll 0 --summary-interval 0 --http "$http" --log-format json 2>"$work/watch.log" &
	wpid=$!
	pids+=("$wpid")
	local vrp=0
	for ((i = 0; i < timeout * 5; i++)); do
		vrp=$(metric rovimpact_vrp_union || true)
		[ "${vrp:-0}" -gt 0 ] && break
		kill -0 "$wpid" 2>/dev/null || die "watch exited: $(tail -3 "$work/watch.log")"
		sleep 0.2
	done
	[ "${vrp:-0}" -gt 0 ] || die "watch loaded no VRPs in ${timeout}s"
	sleep 1
	local idle_rss
	idle_rss=$(kb VmRSS "$wpid")

	# Open the session: gobgpd connects within its 1 s connect-retry.
	local wcpu0 gcpu0
	wcpu0=$(cpu "$wpid")
	gcpu0=$(cpu "$gpid")
	$g neighbor 127.0.0.1 enable >/dev/null || die "gobgp neighbor enable failed"
	local paths=0 eor=0
	for ((i = 0; i < timeout * 2; i++)); do
		eor=$(grep -c '"msg":"bgp_end_of_rib"' "$work/watch.log" || true)
		if [ "$eor" -ge 2 ]; then
			paths=$(metric rovimpact_paths || echo 0)
			[ "${paths:-0}" -ge "$want" ] && break
		fi
		kill -0 "$wpid" 2>/dev/null || die "watch exited: $(tail -3 "$work/watch.log")"
		sleep 0.5
	done
	local t_done
	t_done=$(now)
	local wcpu gcpu
	wcpu=$(python3 -c "print(round($(cpu "$wpid") - $wcpu0, 2))")
	gcpu=$(python3 -c "print(round($(cpu "$gpid") - $gcpu0, 2))")
	[ "${paths:-0}" -ge "$want" ] || die "watch holds ${paths:-0} of $want paths after ${timeout}s (End-of-RIB lines: $eor)"
	local t_up t_eor
	t_up=$(logtime session_up)
	[ -n "$t_up" ] || die "no session_up line in watch's log"
	t_eor=$(python3 - "$work/watch.log" <<'EOF'
import datetime, json, sys
t = 0
for line in open(sys.argv[1]):
    try:
        d = json.loads(line)
    except ValueError:
        continue
    if d.get("msg") == "bgp_end_of_rib":
        t = max(t, datetime.datetime.fromisoformat(d["time"].replace("Z", "+00:00")).timestamp())
print(t)
EOF
)
	sleep "$settle"
	paths=$(metric rovimpact_paths)
	local rss hwm grss
	rss=$(kb VmRSS "$wpid")
	hwm=$(kb VmHWM "$wpid")
	grss=$(kb VmRSS "$gpid")
	curl -sf --max-time 60 "http://$http/api/summary" >"$work/summary.json" || die "GET /api/summary failed"
	local routes
	routes=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["routes"])' "$work/summary.json")
	kill "$wpid" "$gpid" 2>/dev/null || true
	wait "$wpid" "$gpid" 2>/dev/null || true

	python3 - <<EOF
up, eor, done = $t_up, $t_eor, $t_done
paths, want, routes = $paths, $want, $routes
rss, hwm, idle, grss = $rss, $hwm, $idle_rss, $grss
an_rss, an_wall = $an_rss, $an_wall
load = eor - up
print(f"gobgpd:  {want} prefixes injected in $inject_s s; gobgpd VmRSS {grss//1024} MB")
print(f"watch:   {paths} paths, {routes} routes; session_up -> last End-of-RIB {load:.2f} s = {paths/load:,.0f} paths/s"
      f" (to /metrics showing all paths: {done-up:.2f} s, polled every 0.5 s)")
print(f"cpu:     during the load gobgpd used {$gcpu} s CPU ({$gcpu/load:.0%} of one core), watch {$wcpu} s ({$wcpu/load:.0%}; includes its /metrics scrapes)")
print(f"watch:   VmRSS idle (VRPs loaded) {idle//1024} MB, holding the table {rss//1024} MB, VmHWM {hwm//1024} MB")
print(f"watch:   {rss*1024/paths:.0f} B/path all-in (VmRSS/paths), {(rss-idle)*1024/paths:.0f} B/path for the table ((VmRSS-idle)/paths), {hwm*1024/paths:.0f} B/path at peak (VmHWM/paths)")
print(f"analyze: {an_wall:.2f} s, peak RSS {an_rss//1024} MB")
print(f"ratios:  watch VmRSS / analyze peak RSS = {rss/an_rss:.2f}; watch VmHWM / analyze peak RSS = {hwm/an_rss:.2f}; watch load / analyze wall = {load/an_wall:.2f}")
print(f"aim:     >= 300,000 paths/s ({'met' if paths/load >= 300000 else 'NOT met'}), <= 200 B/path all-in ({'met' if rss*1024/paths <= 200 else 'NOT met'}), watch RSS < analyze's ({'met' if rss < an_rss else 'NOT met'})")
EOF
}

echo "# watch over BGP from gobgpd $(gobgpd --version 2>&1 | awk '{print $NF}') vs analyze; table $(basename "$table"), VRPs $(basename "$vrps"); $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 1; r <= repeat; r++)); do
	echo "## run $r"
	run
done
