#!/usr/bin/env bash
# slurm-down.sh DIR: stop what scripts/slurm-up.sh DIR started, by pid file:
# slurmd, slurmctld, and munged if slurm-up started it. TERM, then KILL
# after 10 s.
set -uo pipefail
dir=${1:?usage: slurm-down.sh DIR}
stop() { # pidfile
	[ -s "$1" ] || return 0
	pid=$(cat "$1")
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null
}
stop "$dir/slurmd.pid"
stop "$dir/slurmctld.pid"
if [ -e "$dir/munged.ours" ]; then
	stop /run/munge/munged.pid
	rm -f "$dir/munged.ours"
fi
exit 0
