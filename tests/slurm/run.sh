#!/usr/bin/env bash
# Run a small config through profiles/slurm on a real one-node SLURM cluster on this
# machine, and check that every job ran as a SLURM job and the result table exists.
#     bash tests/slurm/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
CONFIG=tests/slurm/config.yaml
RESULTS=results-slurm-test
PYTHON=${PYTHON:-python3}

tests/slurm/cluster.sh start
$PYTHON -c "import snakemake_executor_plugin_slurm" 2>/dev/null || $PYTHON -m pip install -q -e ".[slurm]"
rm -rf "$RESULTS" .snakemake/slurm_logs

# no accounting database here: job states come from squeue (MinJobAge=3600 keeps ended
# jobs visible); short first status check so that a small run takes minutes
start=$(date +%s)
$PYTHON -m snakemake --profile profiles/slurm --configfile "$CONFIG" \
    --slurm-status-command squeue --slurm-init-seconds-before-status-checks 5 \
    --slurm-keep-successful-logs --slurm-no-account
log=$(ls -t .snakemake/log/*.snakemake.log | head -n 1)
echo "run took $(( $(date +%s) - start )) s; Snakemake's log: $log"

$PYTHON - "$log" "$RESULTS" <<'PY'
import re, subprocess, sys
from pathlib import Path

log, results = Path(sys.argv[1]).read_text(), Path(sys.argv[2])
total = int(re.search(r"^total\s+(\d+)", log, re.M)[1])
finished = dict(re.findall(r"Finished jobid: (\d+) \(Rule: (\w+)\)", log))
submitted = dict(re.findall(r"Job (\d+) has been submitted with SLURM jobid (\d+)", log))
assert len(finished) == total, f"{len(finished)} of {total} jobs finished"
# the target rule 'all' runs no code and stays local; every other job must be a SLURM job
missing = {j: r for j, r in finished.items() if r != "all" and j not in submitted}
assert not missing, f"jobs that did not run under SLURM: {missing}"
ids = sorted(set(submitted.values()), key=int)
known = subprocess.run(["squeue", "-h", "-t", "all", "-j", ",".join(ids),
                        "-O", "JobID:12,State:12,tres-per-job:40"],
                       capture_output=True, text=True, check=True).stdout.split("\n")
slurm = {f[0]: f[1:] for f in (line.split() for line in known) if f}
assert all(slurm.get(i, [None])[0] == "COMPLETED" for i in ids), f"SLURM states: {slurm}"
gpu_rules = {"teacher", "train", "evaluate", "attribution"}
for job, sid in submitted.items():  # the profile's GPU requests reached SLURM
    asked = "gpu" in slurm[sid][1]
    assert asked == (finished[job] in gpu_rules), f"{finished[job]} job {sid}: {slurm[sid]}"
table = results / "tables" / "accuracy.csv"
assert table.exists() and table.stat().st_size > 0, f"{table} was not produced"
n_gpu = sum(finished[j] in gpu_rules for j in submitted)
print(f"OK: {len(submitted)} jobs ran as SLURM jobs {ids[0]}..{ids[-1]}, all COMPLETED, "
      f"{n_gpu} of them with a GPU; "
      f"{table} has {len(table.read_text().splitlines()) - 1} rows")
PY
