# bench/lib.sh: the set-up bench/lookup.sh and bench/lookup_batch.sh share,
# sourced after `set -euo pipefail`. It moves to the repository root and
# sets root, data (DATA, default ../shared/data), out (bench/out, made),
# vrps (VRPS, default the newest rpki-client export), table (TABLE, default
# the PCH full table) and rovimpact (ROVIMPACT, default ./cmd/rovimpact
# built into $out), and checks that GNU time is at /usr/bin/time.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
data=${DATA:-$root/../shared/data}
out=$root/bench/out
mkdir -p "$out"

/usr/bin/time -f %e true 2>/dev/null || { echo "GNU time not found at /usr/bin/time (apt-get install time)" >&2; exit 1; }

vrps=${VRPS:-}
if [ -z "$vrps" ]; then
	vrps=$(ls "$data"/vrp/vrps.rpki-client.*.json.bz2 2>/dev/null | sort | tail -n1 || true)
fi
[ -f "$vrps" ] || { echo "no VRP file (set VRPS= or put shared/data beside the repository)" >&2; exit 1; }
table=${TABLE:-$data/mrt/updates.20151023.0201.pch-route-collector.as3856-fulltable.bgp4mp_et.gz}
[ -f "$table" ] || { echo "$table: no such file" >&2; exit 1; }

rovimpact=${ROVIMPACT:-$out/rovimpact}
[ -n "${ROVIMPACT:-}" ] || go build -o "$rovimpact" ./cmd/rovimpact
