#!/usr/bin/env bash
# A single-node SLURM cluster on loopback for the scale-out tests (test/shard/), started and stopped by PID.
#
#   bash .ci/slurm-cluster.sh start DIR   # config, state and logs under DIR; prints `export SLURM_CONF=...`
#   bash .ci/slurm-cluster.sh stop DIR    # scontrol shutdown, then each daemon this script started, by its PID
#
# Needs (Debian 12): slurmctld slurmd slurm-client munge. Runs the daemons as root (sudo when not root).
# One node, one partition `ci`, every CPU, and a fake GPU (gres gpu:1 on /dev/null) so `--gres=gpu:1` jobs
# schedule. Idempotent stop: a missing PID file or a process already gone is not an error.
set -euo pipefail
cmd=${1:?usage: slurm-cluster.sh start|stop DIR}
T=$(mkdir -p "${2:?usage: slurm-cluster.sh start|stop DIR}" && cd "$2" && pwd)
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
export SLURM_CONF="$T/slurm.conf"

stop_pid() { # stop_pid NAME PIDFILE: TERM, wait up to 10 s, then KILL; only the PID in the file
  local name=$1 file=$2 pid
  [ -s "$file" ] || return 0
  pid=$(cat "$file")
  for _ in $(seq 1 100); do $SUDO kill -0 "$pid" 2>/dev/null || { rm -f "$file"; return 0; }; sleep 0.1; done
  echo "slurm-cluster: $name (pid $pid) still running after 10 s: TERM" >&2
  $SUDO kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do $SUDO kill -0 "$pid" 2>/dev/null || { rm -f "$file"; return 0; }; sleep 0.1; done
  $SUDO kill -KILL "$pid" 2>/dev/null || true
  rm -f "$file"
}

case $cmd in
start)
  H=$(hostname -s)
  mkdir -p "$T/state" "$T/spool" "$T/log"
  mem=$(( $(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo) - 1024 ))
  cat >"$T/slurm.conf" <<EOF
ClusterName=ci
SlurmctldHost=$H(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/log/slurmctld.log
SlurmdLogFile=$T/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
GresTypes=gpu
NodeName=$H NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$mem Gres=gpu:1 State=UNKNOWN
PartitionName=ci Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  echo "NodeName=$H Name=gpu File=/dev/null" >"$T/gres.conf"

  # munge: reuse a running munged (not ours to stop), else start one and remember its PID.
  if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    $SUDO mkdir -p /run/munge /var/log/munge /var/lib/munge
    $SUDO chown munge:munge /run/munge /var/log/munge /var/lib/munge
    [ -s /etc/munge/munge.key ] || $SUDO runuser -u munge -- /usr/sbin/mungekey --create
    $SUDO runuser -u munge -- /usr/sbin/munged
    for _ in $(seq 1 50); do [ -s /run/munge/munged.pid ] && break; sleep 0.1; done
    cp /run/munge/munged.pid "$T/munged.pid"
    munge -n | unmunge >/dev/null
  fi

  $SUDO /usr/sbin/slurmctld -f "$SLURM_CONF"
  $SUDO /usr/sbin/slurmd -f "$SLURM_CONF"
  for _ in $(seq 1 300); do
    [ "$(sinfo -h -o %T 2>/dev/null)" = idle ] && { echo "export SLURM_CONF=$SLURM_CONF"; exit 0; }
    sleep 0.1
  done
  echo "slurm-cluster: the node did not become idle in 30 s; logs in $T/log" >&2
  sinfo >&2 || true
  exit 1
  ;;
stop)
  scontrol shutdown >/dev/null 2>&1 || true
  stop_pid slurmd "$T/slurmd.pid"
  stop_pid slurmctld "$T/slurmctld.pid"
  if [ -s "$T/munged.pid" ]; then
    $SUDO kill -TERM "$(cat "$T/munged.pid")" 2>/dev/null || true
    stop_pid munged "$T/munged.pid"
  fi
  ;;
*) echo "usage: slurm-cluster.sh start|stop DIR" >&2; exit 2 ;;
esac
