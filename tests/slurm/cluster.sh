#!/usr/bin/env bash
# A one-node SLURM cluster on localhost, for real tests of profiles/slurm.
#   tests/slurm/cluster.sh start   install slurm-wlm and munge if missing, start munged,
#                                  slurmctld and slurmd, wait until the node is idle
#   tests/slurm/cluster.sh stop    stop the daemons
# It writes its own slurm.conf and refuses to replace one it did not write, so it
# cannot break a real cluster's configuration. No accounting database: job states
# come from squeue, which keeps finished jobs for MinJobAge seconds.
# The node declares GPUS (default 2) count-only GPUs: SLURM schedules the GPU
# requests of profiles/slurm as it would on a GPU node, and the jobs, finding no
# CUDA device, run on CPU. (There is no GPU on the test machines.)
set -euo pipefail
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
CONF=/etc/slurm/slurm.conf
MARK="# written by cotdistill tests/slurm/cluster.sh"
STATE=/var/lib/cotdistill-slurm
GPUS=${GPUS:-2}

install_packages() {
    command -v slurmctld >/dev/null && command -v munged >/dev/null && return
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q slurm-wlm munge
}

write_conf() {
    if [ -e "$CONF" ] && ! grep -qF "$MARK" "$CONF"; then
        echo "cluster.sh: $CONF exists and was not written by this script; not touching it" >&2
        exit 1
    fi
    local cpus mem
    cpus=$(nproc)
    mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 2048 ))
    $SUDO mkdir -p "$STATE"/{ctld,d} /var/log/slurm
    $SUDO chown -R slurm:slurm "$STATE" /var/log/slurm
    $SUDO tee "$CONF" >/dev/null <<CONF
$MARK
ClusterName=cotdistill
SlurmctldHost=localhost
SlurmUser=slurm
AuthType=auth/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
# containers rarely allow cgroup control: track processes without it
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
# squeue must still know a job this long after it ends (Snakemake polls it)
MinJobAge=3600
GresTypes=gpu
NodeName=localhost CPUs=$cpus RealMemory=$mem Gres=gpu:$GPUS State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
    # slurmd counts a GPU per device file; character devices every machine has stand in
    local files=(/dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty)
    printf 'NodeName=localhost Name=gpu File=%s\n' "${files[@]:0:$GPUS}" |
        $SUDO tee /etc/slurm/gres.conf >/dev/null
}

start() {
    install_packages
    write_conf
    stop  # daemons of an earlier start read the configuration written now
    if ! pgrep -x munged >/dev/null; then
        $SUDO install -d -o munge -g munge -m 0755 /run/munge
        $SUDO runuser -u munge -- /usr/sbin/munged
    fi
    $SUDO /usr/sbin/slurmctld -c  # -c: no jobs or node state from an earlier start
    $SUDO /usr/sbin/slurmd -N localhost  # the node's name, whatever the hostname
    for _ in $(seq 60); do
        if sinfo -h -N -o "%T" 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
            sinfo -N -l
            return
        fi
        sleep 1
    done
    echo "cluster.sh: the node did not come up; the daemons' logs follow" >&2
    $SUDO tail -n 20 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
    exit 1
}

stop() {
    $SUDO pkill -x slurmd || true
    $SUDO pkill -x slurmctld || true
    for _ in $(seq 20); do
        pgrep -x slurmd >/dev/null || pgrep -x slurmctld >/dev/null || return 0
        sleep 0.5
    done
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
