# bench/bird.sh: the bird2 sender bench/watch_bird2.sh and bench/bird_sink.sh
# share, sourced after `set -euo pipefail` with root, out, table, timeout
# and work set and die, pids defined. bird reads no MRT: bench/mrt2bird
# turns TABLE into static routes carrying each path's AS_PATH (one path per
# prefix); bird runs as the calling user from $work (its own config,
# control socket, pid file and log), on 127.0.0.20 towards a receiver on
# 127.0.0.1, with its BGP protocol disabled until it holds every static
# route; it prepends its AS and sets itself as next hop, as an eBGP router
# does.

bird_as=4200000001
bird_ip=127.0.0.20
birdc="birdc -s $work/bird.ctl"

# freeports N: N distinct free TCP ports (all held open until all are
# chosen: one at a time, the kernel can hand out the same port twice, and
# bird then failed to bind its own, leaving the run waiting for TIMEOUT).
freeports() { python3 -c 'import socket, sys; ss = [socket.socket() for _ in range(int(sys.argv[1]))]; [s.bind(("127.0.0.1", 0)) for s in ss]; print(" ".join(str(s.getsockname()[1]) for s in ss))' "$1"; }

# bird_routes: builds the static routes of $table once (kept in $out) and
# sets routes (the file) and want (the paths bird will send).
bird_routes() {
	go build -o "$out/mrt2bird" "$root/bench/mrt2bird"
	routes=$out/watch_bird2.$(basename "$table").routes.conf
	if [ ! -s "$routes" ] || [ ! -s "$routes.info" ] || [ "$routes" -ot "$table" ] || [ "$routes" -ot "$root/bench/mrt2bird/main.go" ]; then
		"$out/mrt2bird" -o "$routes" "$table" 2>"$routes.info" || { cat "$routes.info" >&2; exit 1; }
	fi
	want=$(sed -n 's/.*: \([0-9]*\) prefixes (.*/\1/p' "$routes.info")
	[ -n "$want" ] || die "no prefix count in $routes.info"
}

# bird_start PORT PEER_AS: starts bird, its own listening port a free one
# other than PORT (not 179, so that two runs on one machine do not
# collide), its session to 127.0.0.1:PORT AS PEER_AS disabled, and waits
# until it holds every static route (seconds and hundreds of MB to parse
# them). Sets bpid; `$birdc enable col` then opens the session.
bird_start() {
	local port=$1 peer_as=$2 bport i have=0
	read -r bport <<<"$(freeports 1)"
	while [ "$bport" = "$port" ]; do read -r bport <<<"$(freeports 1)"; done
	cat >"$work/bird.conf" <<BIRDCONF
router id 192.0.2.1;
log "$work/bird.log" all;
protocol device {}
include "$routes";
protocol bgp col {
  disabled;
  local $bird_ip port $bport as $bird_as;
  neighbor 127.0.0.1 port $port as $peer_as;
  multihop;
  connect delay time 1;
  connect retry time 1;
  graceful restart on;
  ipv4 { import none; export all; next hop self; };
  ipv6 { import none; export all; next hop address 2001:db8::20; };
}
BIRDCONF
	bird -f -c "$work/bird.conf" -s "$work/bird.ctl" -P "$work/bird.pid" >"$work/bird.out.log" 2>&1 &
	bpid=$!
	pids+=("$bpid")
	for ((i = 0; i < timeout * 2; i++)); do
		# (birdc fails until bird has made its control socket)
		have=$($birdc show route count 2>/dev/null | awk '/routes for/ {print $1; exit}' || true)
		[ "${have:-0}" -ge "$want" ] && return 0
		kill -0 "$bpid" 2>/dev/null || die "bird exited: $(tail -3 "$work/bird.out.log")"
		sleep 0.5
	done
	die "bird holds ${have:-0} of $want routes after ${timeout}s"
}
