"""How long Snakemake takes to plan the reference grid (config/paper.yaml), offline.

Target: at most 15 s on a 2-core laptop. Baseline: planning the quickstart
(config.yaml, 31 jobs) in the same run, so the ratio shows what the 476-job
grid costs beyond Snakemake's own start-up. Run from the repository root:

    python benchmarks/plan_paper.py [--repeat 3]
"""

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET_S = 15.0


def plan_seconds(configfile: str | None) -> float:
    cmd = [sys.executable, "-m", "snakemake", "-n", "--quiet", "all"]
    if configfile:
        cmd += ["--configfile", configfile]
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=REPO, check=True, capture_output=True)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    runs = {"quickstart (config.yaml)": None, "paper grid (config/paper.yaml)": "config/paper.yaml"}
    medians = {}
    for name, configfile in runs.items():
        times = [plan_seconds(configfile) for _ in range(args.repeat)]
        medians[name] = statistics.median(times)
        print(f"{name:34s} median {medians[name]:6.2f} s  (runs: "
              f"{', '.join(f'{t:.2f}' for t in times)})")
    baseline, paper = medians.values()
    print(f"paper / quickstart: {paper / baseline:.2f}x;  paper / {TARGET_S:.0f} s target: "
          f"{paper / TARGET_S:.2f} ({'met' if paper <= TARGET_S else 'MISSED'})")


if __name__ == "__main__":
    main()
