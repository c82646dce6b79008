"""The quickstart's wall time: today's code against the code the performance issue
was filed on, on the same config (that commit's config.yaml), back to back.

Target: today's wall time at most 60% of the baseline's. Each side runs the whole
workflow from an empty folder with ``--cores all``; with ``--rounds 2`` or more the
sides alternate (baseline, today, baseline, ...) and the medians are compared.
Also printed: job-seconds per rule from each run's benchmark files (where the time
goes) and how many runs' accuracies agree (code changes that round differently,
such as a fused kernel, change per-seed results). About 12 minutes a round on 2
cores; run it on an otherwise idle machine, from a git checkout:

    python benchmarks/quickstart.py [--baseline 1314032] [--rounds 1]
"""

import argparse
import collections
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
FILED_ON = "1314032"  # the commit the performance issue measured
TARGET = 0.60


def checkout(rev: str, into: Path) -> Path:
    """The repository's files at ``rev`` (no .git), for a run of that code."""
    into.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", rev], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def run_workflow(code: Path, config_text: str, workdir: Path) -> float:
    """Seconds of one ``snakemake --cores all`` of ``code``'s Snakefile from an empty folder."""
    workdir.mkdir(parents=True)
    (workdir / "config.yaml").write_text(config_text)
    env = {**os.environ, "PYTHONPATH": str(code / "src"), "HF_HUB_OFFLINE": "1"}
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(code / "Snakefile"),
        "--cores",
        "all",
        "--quiet",
        "progress",
    ]
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"{code.name}: the workflow failed\n{done.stderr[-3000:]}")
    return elapsed


def job_seconds(workdir: Path) -> dict[str, tuple[int, float]]:
    """rule -> (jobs, seconds) from the run's benchmark files."""
    found: dict[str, list[float]] = collections.defaultdict(list)
    root = next(workdir.glob("results*/benchmarks"))
    for tsv in root.glob("**/*.tsv"):
        rule = tsv.relative_to(root).parts[0]
        found[rule.removesuffix(".tsv")].append(float(pd.read_csv(tsv, sep="\t")["s"].iloc[0]))
    return {rule: (len(s), sum(s)) for rule, s in found.items()}


def accuracies(workdir: Path) -> pd.DataFrame:
    runs = pd.read_csv(next(workdir.glob("results*/tables/runs.csv")))
    return runs.set_index(["condition", "seed"])[["gen_accuracy", "choice_accuracy"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", default=FILED_ON, help="git revision to compare with")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="quickstart-bench-") as tmp:
        tmp = Path(tmp)
        config_text = subprocess.run(
            ["git", "-C", str(REPO), "show", f"{args.baseline}:config.yaml"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        sides = {"baseline": checkout(args.baseline, tmp / "baseline"), "today": REPO}
        walls: dict[str, list[float]] = {side: [] for side in sides}
        for r in range(args.rounds):
            for side, code in sides.items():
                walls[side].append(run_workflow(code, config_text, tmp / f"{side}-{r}"))
                print(f"round {r + 1}: {side} {walls[side][-1]:.0f} s", flush=True)
        base, today = (statistics.median(walls[s]) for s in ("baseline", "today"))
        print(f"\nquickstart at {args.baseline}'s config, median of {args.rounds} round(s)")
        print(
            f"baseline ({args.baseline}): {base:.0f} s   today: {today:.0f} s   "
            f"today / baseline: {today / base:.2f} (target <= {TARGET:.2f})"
        )
        per_rule = {side: job_seconds(tmp / f"{side}-0") for side in sides}
        print(f"\n{'rule':20s} {'jobs':>5s} {'baseline s':>11s} {'jobs':>5s} {'today s':>9s}")
        for rule in sorted(
            set().union(*per_rule.values()), key=lambda x: -per_rule["baseline"].get(x, (0, 0))[1]
        ):
            (nb, sb), (nt, st) = (per_rule[s].get(rule, (0, 0.0)) for s in sides)
            print(f"{rule:20s} {nb:5d} {sb:11.1f} {nt:5d} {st:9.1f}")
        totals = [sum(s for _, s in per_rule[side].values()) for side in sides]
        print(f"{'job-seconds':20s} {'':5s} {totals[0]:11.1f} {'':5s} {totals[1]:9.1f}")
        a, b = (accuracies(tmp / f"{side}-0") for side in sides)
        same = (a.reindex(b.index) == b).all(axis=1).sum()
        print(f"\nruns with the same accuracies as the baseline: {same} of {len(b)}")


if __name__ == "__main__":
    main()
