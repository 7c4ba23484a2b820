#!/usr/bin/env bash
# bench/watch_bird2.sh: `rovimpact watch` receiving a full table over a real
# loopback BGP session from bird2 (Debian package bird2), against
# `rovimpact analyze` of the same table, in one run on one machine:
#
#   - load time: from watch's session_up log line to the moment watch holds
#     every path bird sends (rovimpact_paths on /healthz, polled every 10 ms;
#     /healthz builds no report), and paths/s over it; the CPU bird and watch
#     used meanwhile. bird's End-of-RIB is not the end: bird sometimes sends
#     it seconds after its last UPDATE, with both processes idle in between
#     (the lag is printed);
#   - watch's VmRSS and VmHWM (/proc/PID/status) idle with the VRPs loaded
#     and at steady state holding the table (every path bird sent, on
#     /healthz paths, the initial_load told, then SETTLE seconds); bytes per held path
#     all-in (VmRSS / paths) and for the table alone ((VmRSS - idle) / paths);
#   - analyze --vrps VRPS TABLE: wall time and peak RSS (GNU time), the
#     baseline; ratios watch / analyze.
#
# bird is set up by bench/bird.sh (shared with bench/bird_sink.sh): it
# reads no MRT but static routes bench/mrt2bird makes of TABLE, one path
# per prefix carrying its AS_PATH (paths with an AS_SET are left out and
# counted). Every wait is bounded (TIMEOUT seconds); bird and watch are
# stopped on exit and the last run's logs kept in bench/out/watch_bird2.logs/.
#
#   bench/watch_bird2.sh
#   REPEAT=3 bench/watch_bird2.sh
#   ROVIMPACT=bench/out/rovimpact.base bench/watch_bird2.sh      # another build
#   WATCH_ENV="GOGC=50" bench/watch_bird2.sh                    # runtime knobs for watch only
#   WATCH_ARGS="--interval 1m" bench/watch_bird2.sh             # more watch flags
#   TABLE=file.mrt VRPS=vrps.json bench/watch_bird2.sh
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
watch_env=${WATCH_ENV:-}
watch_args=${WATCH_ARGS:-}
watch_as=4200000002

for t in bird birdc curl python3; do
	command -v "$t" >/dev/null || { echo "watch_bird2: $t not found (Debian packages bird2, curl, python3)" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "watch_bird2: /usr/bin/time not found (Debian package time)" >&2; exit 1; }
for f in "$table" "$vrps"; do
	[ -r "$f" ] || { echo "watch_bird2: cannot read $f" >&2; exit 1; }
done

mkdir -p "$out"
bin=${ROVIMPACT:-$out/rovimpact}
[ -n "${ROVIMPACT:-}" ] || go build -o "$bin" ./cmd/rovimpact
work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	mkdir -p "$out/watch_bird2.logs"
	cp "$work"/*.log "$work"/bird.conf "$out/watch_bird2.logs/" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

kb() { awk -v k="$1:" '$1==k {print $2}' "/proc/$2/status"; }
now() { date +%s.%N; }
# cpu PID: user+system CPU seconds PID has used so far.
cpu() { awk -v hz="$(getconf CLK_TCK)" '{sub(/^.*\) /, ""); printf "%.2f\n", ($12 + $13) / hz}' "/proc/$1/stat"; }
die() { echo "watch_bird2: $*" >&2; exit 1; }
. "$root/bench/bird.sh"
bird_routes
cat "$routes.info"
# hpaths: the paths watch holds, from /healthz (which builds no report,
# unlike /metrics).
hpaths() { curl -s --max-time 30 "http://$http/healthz" | python3 -c 'import json, sys; print(json.load(sys.stdin)["paths"])'; }
# logtimes EVENT: first and last time (Unix seconds) of watch's JSON log lines with msg EVENT.
logtimes() {
	python3 - "$work/watch.log" "$1" <<'EOF'
import datetime, json, sys
ts = []
for line in open(sys.argv[1]):
    try:
        d = json.loads(line)
    except ValueError:
        continue
    if d.get("msg") == sys.argv[2]:
        ts.append(datetime.datetime.fromisoformat(d["time"].replace("Z", "+00:00")).timestamp())
print(f"{ts[0]} {ts[-1]}" if ts else "")
EOF
}

# analyze, the baseline: wall seconds and peak RSS.
/usr/bin/time -v -o "$work/analyze.time" "$bin" analyze --vrps "$vrps" "$table" >"$work/analyze.out" 2>"$work/analyze.err" ||
	die "analyze failed: $(tail -3 "$work/analyze.err")"
an_rss=$(awk -F: '/Maximum resident set size/ {gsub(/ /,"",$2); print $2}' "$work/analyze.time")
an_wall=$(awk '/Elapsed \(wall clock\)/ {n=split($NF,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$work/analyze.time")

run() {
	local bgp hport wpid i
	read -r bgp hport <<<"$(freeports 2)"
	http=127.0.0.1:$hport
	rm -f "$work"/*.log
	local t0 t1
	t0=$(now)
	bird_start "$bgp" "$watch_as"
	t1=$(now)

	env $watch_env "$bin" watch --local-as "$watch_as" --neighbor "$bird_ip:$bird_as" --listen "127.0.0.1:$bgp" \
		--vrps "$vrps" --file-poll 0 --summary-interval 0 --http "$http" --log-format json $watch_args 2>"$work/watch.log" &
	wpid=$!
	pids+=("$wpid")
	local vrp=0
	for ((i = 0; i < timeout * 5; i++)); do
		vrp=$(curl -s --max-time 30 "http://$http/healthz" 2>/dev/null | python3 -c 'import json, sys; print(json.load(sys.stdin)["union_vrps"])' 2>/dev/null || true)
		[ "${vrp:-0}" -gt 0 ] && break
		kill -0 "$wpid" 2>/dev/null || die "watch exited: $(tail -3 "$work/watch.log")"
		sleep 0.2
	done
	[ "${vrp:-0}" -gt 0 ] || die "watch loaded no VRPs in ${timeout}s"
	sleep 1
	local idle_rss
	idle_rss=$(kb VmRSS "$wpid")

	# Open the session. During the load only watch's log and /healthz are
	# read (no request that builds a report); /api/summary once at the end.
	local wcpu0 bcpu0
	wcpu0=$(cpu "$wpid")
	bcpu0=$(cpu "$bpid")
	# The load ends when watch holds every path, not at bird's End-of-RIB:
	# bird sometimes sends that seconds after its last UPDATE (bench/README.md).
	# A poller asks /healthz (which builds no report) every 10 ms over one
	# connection and notes when the session is up and when every path is held,
	# with both processes' CPU at that moment.
	python3 - "$http" "$want" "$wpid" "$bpid" "$timeout" >"$work/load.txt" 2>"$work/poll.err" <<'EOF2' &
import http.client, json, os, sys, time
addr, want, wpid, bpid, limit = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], float(sys.argv[5])
hz = os.sysconf("SC_CLK_TCK")
def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(") ", 1)[1].split()
    return (int(f[11]) + int(f[12])) / hz
host, port = addr.rsplit(":", 1)
c = http.client.HTTPConnection(host, int(port), timeout=30)
up = most = None
end = time.time() + limit
polls = 0
while time.time() < end:
    c.request("GET", "/healthz")
    h = json.loads(c.getresponse().read())
    polls += 1
    t = time.time()
    if up is None and h.get("sessions_up", 0) > 0:
        up = t
    if most is None and h.get("paths", 0) >= want * 0.999:
        most, mw, mb = t, cpu(wpid), cpu(bpid)
    if h.get("paths", 0) >= want:
        print(up, t, cpu(wpid), cpu(bpid), polls, most, mw, mb)
        sys.exit(0)
    time.sleep(0.01)
sys.exit(1)
EOF2
	local poller=$!
	$birdc enable col >/dev/null || die "birdc enable col failed"
	local eor=0
	for ((i = 0; i < timeout * 10; i++)); do
		eor=$(grep -c '"msg":"bgp_end_of_rib"' "$work/watch.log" || true)
		[ "$eor" -ge 2 ] && break
		kill -0 "$wpid" 2>/dev/null || die "watch exited: $(tail -3 "$work/watch.log")"
		sleep 0.1
	done
	[ "$eor" -ge 2 ] || die "no End-of-RIB for both families after ${timeout}s: $(grep -c . "$work/watch.log") log lines"
	wait "$poller" || die "watch did not hold $want paths in ${timeout}s (poller: $(tail -2 "$work/poll.err"))"
	local pup pall pw pb polls pmost pmw pmb wcpu bcpu
	read -r pup pall pw pb polls pmost pmw pmb <"$work/load.txt"
	wcpu=$(python3 -c "print(round($pw - $wcpu0, 2))")
	bcpu=$(python3 -c "print(round($pb - $bcpu0, 2))")
	# CPU to 99.9% of the paths: the tail, when bird holds it back, costs none.
	local wcpu9 bcpu9
	wcpu9=$(python3 -c "print(round($pmw - $wcpu0, 2))")
	bcpu9=$(python3 -c "print(round($pmb - $bcpu0, 2))")
	local paths=0
	for ((i = 0; i < timeout; i++)); do
		paths=$(hpaths || echo 0)
		[ "${paths:-0}" -ge "$want" ] && break
		sleep 1
	done
	[ "${paths:-0}" -ge "$want" ] || die "watch holds ${paths:-0} of $want paths"
	local up eor_t
	read -r up _ <<<"$(logtimes session_up)"
	read -r _ eor_t <<<"$(logtimes bgp_end_of_rib)"
	[ -n "$up" ] || die "no session_up line in watch's log"
	# Steady state: after the check that tells the session's initial_load
	# (at the --interval tick after End-of-RIB; it builds a snapshot of the
	# whole table, then hands free pages back), then SETTLE seconds.
	for ((i = 0; i < timeout * 10; i++)); do
		grep -q '"msg":"initial_load"' "$work/watch.log" && break
		sleep 0.1
	done
	grep -q '"msg":"initial_load"' "$work/watch.log" || die "no initial_load line in ${timeout}s"
	sleep "$settle"
	paths=$(hpaths)
	local rss hwm brss
	rss=$(kb VmRSS "$wpid")
	hwm=$(kb VmHWM "$wpid")
	brss=$(kb VmRSS "$bpid")
	curl -sf --max-time 60 "http://$http/api/summary" >"$work/summary.json" || die "GET /api/summary failed"
	local nroutes
	nroutes=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["routes"])' "$work/summary.json")
	# UPDATE messages received (the BGP input's records): the per-message
	# costs (framing, the FSM's hand-over, decoding) scale with these.
	local nupd
	nupd=$(python3 -c 'import json,sys; print(sum(i["records"] for i in json.load(open(sys.argv[1]))["summary"]["inputs"] if i["name"].startswith("bgp")))' "$work/summary.json")
	# After the API built its report (the first request that builds one:
	# the paths above come from /healthz, which builds none) and SETTLE
	# seconds: what a scraped watch holds.
	sleep "$settle"
	local rss2
	rss2=$(kb VmRSS "$wpid")
	kill "$wpid" "$bpid" 2>/dev/null || true
	wait "$wpid" "$bpid" 2>/dev/null || true

	python3 - <<EOF
up, eor, paths, want, routes, nupd = $up, $eor_t, $paths, $want, $nroutes, $nupd
pall, polls, pmost = $pall, $polls, $pmost
rss, rss2, hwm, idle, brss = $rss, $rss2, $hwm, $idle_rss, $brss
an_rss, an_wall = $an_rss, $an_wall
load = pall - up
print(f"bird:    {want} static routes loaded in {$t1-$t0:.1f} s; bird VmRSS {brss//1024} MB")
print(f"watch:   {paths} paths, {routes} routes; session_up -> every path held {load:.2f} s = {paths/load:,.0f} paths/s ({polls} /healthz polls)")
most = pmost - up
print(f"watch:   99.9% of the paths held after {most:.2f} s = {0.999*want/most:,.0f} paths/s; the last {want - int(0.999*want)} {load - most:.2f} s later")
print(f"bird:    End-of-RIB logged {eor - pall:+.2f} s after the last path was held")
print(f"cpu:     during the load bird used {$bcpu} s CPU, watch {$wcpu} s = {$wcpu*1e6/paths:.2f} us/path; to 99.9%: bird {$bcpu9} s, watch {$wcpu9} s")
print(f"bgp:     {nupd} UPDATEs received, {paths/max(nupd,1):.2f} paths per UPDATE")
print(f"watch:   VmRSS idle (VRPs loaded) {idle//1024} MB, holding the table {rss//1024} MB ({rss2//1024} MB after /api/summary built a report), VmHWM {hwm//1024} MB")
print(f"watch:   {rss*1024/paths:.0f} B/path all-in (VmRSS/paths), {(rss-idle)*1024/paths:.0f} B/path for the table ((VmRSS-idle)/paths), {hwm*1024/paths:.0f} B/path at peak (VmHWM/paths)")
print(f"analyze: {an_wall:.2f} s, peak RSS {an_rss//1024} MB")
print(f"ratios:  watch VmRSS / analyze peak RSS = {rss/an_rss:.2f}; watch VmHWM / analyze peak RSS = {hwm/an_rss:.2f}")
print(f"aim:     >= 300,000 paths/s ({'met' if paths/load >= 300000 else 'NOT met'}; to 99.9%: {'met' if 0.999*want/most >= 300000 else 'NOT met'}), <= 200 B/path all-in ({'met' if rss*1024/paths <= 200 else 'NOT met'}), watch RSS < analyze's ({'met' if rss < an_rss else 'NOT met'})")
print(f"csv:     {paths},{load:.3f},{paths/load:.0f},{most:.3f},{0.999*want/most:.0f},{$bcpu},{$wcpu},{$bcpu9},{$wcpu9},{idle//1024},{rss//1024},{rss2//1024},{hwm//1024},{rss*1024/paths:.0f},{an_rss//1024},{rss/an_rss:.2f},{hwm/an_rss:.2f}")
EOF
}

echo "# watch over BGP from $(bird --version 2>&1) vs analyze; $(basename "$bin"); WATCH_ENV='$watch_env' WATCH_ARGS='$watch_args'; table $(basename "$table"), VRPs $(basename "$vrps"); $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 1; r <= repeat; r++)); do
	echo "## run $r"
	run
done
