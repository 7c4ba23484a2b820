#!/usr/bin/env bash
# bench/api_rss.sh: what /api/lookup?q=0.0.0.0/0 costs a running `watch`
# holding ROUTES synthetic routes (fed over BMP by bench/bmpfeed), for the
# base commit's binary and this tree's, in one run on one machine: the
# process's RSS when idle, its peak RSS (VmHWM, reset before the requests)
# while CONCURRENT such requests run at once, and the bytes each response
# sends. Linux only (/proc/PID/status, /proc/PID/clear_refs).
#
#   bench/api_rss.sh                   # 100k routes, 4 concurrent requests, base 0ecd395
#   ROUTES=20000 CONCURRENT=2 bench/api_rss.sh
#   BASE=none bench/api_rss.sh         # this tree only
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=$root/bench/out
n=${ROUTES:-100000}
conc=${CONCURRENT:-4}
base=${BASE:-0ecd395}
mkdir -p "$out"
go build -o "$out/bmpfeed" ./bench/bmpfeed
go build -o "$out/rovimpact" ./cmd/rovimpact
if [ "$base" != none ]; then
	tmp=$(mktemp -d)
	git archive "$base" | tar -x -C "$tmp"
	(cd "$tmp" && go build -o "$out/rovimpact-$base" ./cmd/rovimpact)
	rm -rf "$tmp"
fi
vrps=$out/api_rss_vrps.json
"$out/bmpfeed" -vrps "$vrps" -n "$n"

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
kb() { awk -v k="$1:" '$1==k {print $2}' "/proc/$2/status"; }

# measure LABEL BIN [CURL ARGS...]
measure() {
	local label=$1 bin=$2
	shift 2
	local bmp http wpid fpid
	bmp=127.0.0.1:$(freeport)
	http=127.0.0.1:$(freeport)
	"$bin" watch --bmp "$bmp" --vrps "$vrps" --file-poll 0 --http "$http" --log-format json 2>"$out/api_rss_watch.log" &
	wpid=$!
	for _ in $(seq 100); do curl -sf "http://$http/healthz" >/dev/null && break; sleep 0.1; done
	"$out/bmpfeed" -connect "$bmp" -n "$n" 2>/dev/null &
	fpid=$!
	local routes=0
	for _ in $(seq 600); do
		routes=$(curl -sf "http://$http/api/summary" | python3 -c 'import json,sys; print(json.load(sys.stdin)["summary"]["routes"])' || echo 0)
		[ "$routes" -ge "$n" ] && break
		sleep 0.5
	done
	# The report of the loaded table is built once; build it before measuring.
	curl -sf "http://$http/api/summary" >/dev/null
	local idle peak bytes
	idle=$(kb VmRSS "$wpid")
	echo 5 >"/proc/$wpid/clear_refs"
	# The requests run in the substitution's subshell: it ends with them.
	bytes=$(for _ in $(seq "$conc"); do
		curl -s -o /dev/null -w '%{size_download}\n' "$@" "http://$http/api/lookup?q=0.0.0.0/0" &
	done | sort -u | tr '\n' ' ')
	peak=$(kb VmHWM "$wpid")
	kill "$fpid" "$wpid" 2>/dev/null || true
	wait "$fpid" "$wpid" 2>/dev/null || true
	printf '%-28s routes=%-7s idle_rss_mb=%-7d peak_rss_mb=%-7d growth_mb=%-7d response_bytes=%s\n' \
		"$label" "$routes" $((idle / 1024)) $((peak / 1024)) $(((peak - idle) / 1024)) "$bytes"
}

echo "# /api/lookup?q=0.0.0.0/0, $conc concurrent requests, $n routes"
if [ "$base" != none ]; then
	measure "base $base" "$out/rovimpact-$base"
fi
measure "this tree (default page)" "$out/rovimpact"
measure "this tree, limit=10000" "$out/rovimpact" -G -d limit=10000
measure "this tree, gzip" "$out/rovimpact" -H 'Accept-Encoding: gzip'
