#!/usr/bin/env bash
# slurm-up.sh DIR: start a single-node Slurm cluster on this machine for the
# archive tests: munged (if not already running), slurmctld and slurmd on
# 127.0.0.1, no cgroups (proctrack/linuxproc, task/none), no accounting.
# Config, state, spool, logs and pid files live under DIR; stop it with
# scripts/slurm-down.sh DIR. Prints the line to eval: export SLURM_CONF=...
#
# Needs root and the Debian packages slurmctld slurmd slurm-client munge
# (make deps installs them). Facts behind each setting: apt's policy starts
# no daemon, so each is started here by hand; munge needs /run/munge and a
# 0400 key owned by munge; MailProg must exist; the scheduler delays make
# array tasks start ~3 s apart unless turned off.
set -euo pipefail
dir=${1:?usage: slurm-up.sh DIR}
for b in slurmctld slurmd sbatch sinfo scontrol munged munge unmunge; do
	command -v "$b" >/dev/null || { echo "slurm-up: $b not found: apt-get install slurmctld slurmd slurm-client munge" >&2; exit 3; }
done
[ "$(id -u)" = 0 ] || { echo "slurm-up: needs root (slurmd runs jobs as their user)" >&2; exit 3; }
mkdir -p "$dir"/state "$dir"/spool "$dir"/log
dir=$(cd "$dir" && pwd)

if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
	chown munge:munge /etc/munge/munge.key
	chmod 0400 /etc/munge/munge.key
	install -d -o munge -g munge -m 0755 /run/munge
	runuser -u munge -- /usr/sbin/munged
	touch "$dir/munged.ours" # slurm-down stops munged only if we started it
	for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
	munge -n | unmunge >/dev/null
fi

host=$(hostname -s)
cat >"$dir/slurm.conf" <<CONF
ClusterName=rovimpact
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=${SLURMCTLD_PORT:-6817}
SlurmdPort=${SLURMD_PORT:-6818}
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MailProg=/bin/true
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ReturnToService=2
MinJobAge=300
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=1000 State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$dir/slurm.conf
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
# Both daemonize; one that could not start (say, another slurmctld holds
# the port) leaves no live pid: fail here rather than let sbatch talk to
# someone else's cluster.
for _ in $(seq 50); do
	[ -s "$dir/slurmctld.pid" ] && [ -s "$dir/slurmd.pid" ] && break
	sleep 0.1
done
for d in slurmctld slurmd; do
	if ! { [ -s "$dir/$d.pid" ] && kill -0 "$(cat "$dir/$d.pid")" 2>/dev/null; }; then
		echo "slurm-up: $d did not start (port in use? SLURMCTLD_PORT/SLURMD_PORT pick others); see $dir/log/$d.log" >&2
		exit 1
	fi
done

# Wait (bounded) for the node to be idle; resume it if it came up down.
for i in $(seq 100); do
	state=$(sinfo -h -N -o %T 2>/dev/null | head -1 || true)
	case $state in
	idle*) echo "export SLURM_CONF=$SLURM_CONF"; exit 0 ;;
	down* | drain*) [ $((i % 10)) = 0 ] && scontrol update NodeName="$host" State=RESUME >/dev/null 2>&1 || true ;;
	esac
	sleep 0.2
done
echo "slurm-up: node not idle after 20 s (state: ${state:-none}); logs in $dir/log" >&2
exit 1
