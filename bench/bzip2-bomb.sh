#!/usr/bin/env bash
# bench/bzip2-bomb.sh: peak RSS of the bzip2 decompressor on a bomb (1.5 KB of
# bzip2 that decodes to 2 GiB of zeros) at several GOMAXPROCS, for this tree
# and, in the same run, for a baseline commit. See bench/README.md.
#
#   bench/bzip2-bomb.sh                 # baseline 0ecd395, GOMAXPROCS 1 2 8 16
#   BASE=HEAD~3 bench/bzip2-bomb.sh     # another baseline (BASE= to skip it)
#   PROCS="1 2" bench/bzip2-bomb.sh
#   BOMB=file.bz2 bench/bzip2-bomb.sh   # another input
#
# Needs bzip2 (to make the bomb once, in bench/out/) and GNU time at
# /usr/bin/time (Debian package time).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=$root/bench/out
base=${BASE-0ecd395}
procs=${PROCS:-1 2 8 16}
mkdir -p "$out"
/usr/bin/time -f %M true 2>/dev/null || { echo "GNU time missing (apt-get install time)" >&2; exit 1; }

bomb=${BOMB:-$out/bomb-2GiB-zeros.bz2}
if [ ! -s "$bomb" ]; then
	command -v bzip2 >/dev/null || { echo "bzip2 not found (apt-get install bzip2)" >&2; exit 1; }
	echo "making $bomb (2 GiB of zeros, about a minute)" >&2
	head -c 2147483648 /dev/zero | bzip2 -9 >"$bomb.tmp" && mv "$bomb.tmp" "$bomb"
fi

go build -o "$out/decompress" ./bench/decompress
bins=("new:$out/decompress")
if [ -n "$base" ]; then
	# The baseline tree gets this tree's bench/decompress (it only needs
	# compressed.Open), so both sides run the same driver.
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	git archive "$base" | tar -x -C "$tmp"
	mkdir -p "$tmp/bench/decompress"
	cp bench/decompress/main.go "$tmp/bench/decompress/"
	(cd "$tmp" && go build -o "$out/decompress-base" ./bench/decompress)
	bins=("base:$out/decompress-base" "${bins[@]}")
fi

printf '%-6s %-10s %10s %8s\n' tree GOMAXPROCS peak_MB wall_s
declare -A peak
for p in $procs; do
	for b in "${bins[@]}"; do
		tag=${b%%:*} bin=${b#*:}
		res=$( { GOMAXPROCS=$p /usr/bin/time -f '%M %e' "$bin" "$bomb" 2>&1 >/dev/null; } | tail -1)
		kb=${res% *} wall=${res#* }
		peak[$tag.$p]=$((kb / 1024))
		printf '%-6s %-10s %10d %8s\n' "$tag" "$p" "$((kb / 1024))" "$wall"
	done
	if [ -n "$base" ]; then
		awk -v b="${peak[base.$p]}" -v n="${peak[new.$p]}" -v p="$p" \
			'BEGIN { printf "ratio  %-10s %10.2f   (new/base peak RSS)\n", p, n / b }'
	fi
done
