"""How long Snakemake takes to plan the reference grid (config/paper.yaml), offline.

Target: at most 10 s for the grid scaled 4x, growing linearly. Baseline:
planning the quickstart (config.yaml) in the same run, so the ratio shows what
the grid costs beyond Snakemake's own start-up. The grid is scaled by its seeds
(3, 6, 12: every seed adds a training and an evaluation job per run).
Run from the repository root:

    python benchmarks/plan_paper.py [--repeat 3]
"""

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
TARGET_S = 10.0


def plan(configfile: str | None) -> tuple[float, int]:
    """(seconds, jobs) of one dry run."""
    cmd = [sys.executable, "-m", "snakemake", "-n", "--quiet", "all"]
    if configfile:
        cmd += ["--configfile", configfile]
    t0 = time.perf_counter()
    run = subprocess.run(cmd, cwd=REPO, check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    return seconds, int(re.search(r"^total\s+(\d+)", run.stdout, re.M)[1])


def scaled_paper(folder: str, scale: int) -> str:
    """config/paper.yaml with its seeds repeated ``scale`` times (a results folder of its
    own, never written: this is a dry run)."""
    config = yaml.safe_load((REPO / "config/paper.yaml").read_text())
    seeds = config["seeds"]
    config["seeds"] = [s + k * 1000 for k in range(scale) for s in seeds]
    config["results"] = f"results-plan-benchmark-{scale}x"
    path = Path(folder) / f"paper-{scale}x.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return str(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        runs = {"quickstart (config.yaml)": None}
        runs.update({f"paper grid {k}x": scaled_paper(folder, k) for k in (1, 2, 4)})
        medians = {}
        for name, configfile in runs.items():
            results = [plan(configfile) for _ in range(args.repeat)]
            times, jobs = [t for t, _ in results], results[0][1]
            medians[name] = (statistics.median(times), jobs)
            print(
                f"{name:26s} {jobs:5d} jobs  median {medians[name][0]:6.2f} s  (runs: "
                f"{', '.join(f'{t:.2f}' for t in times)})"
            )
    (base, _), (one, jobs1), (_, _), (four, jobs4) = medians.values()
    print(
        f"per job beyond the quickstart: 1x {1000 * (one - base) / jobs1:.2f} ms, "
        f"4x {1000 * (four - base) / jobs4:.2f} ms (linear: about equal);  "
        f"4x / {TARGET_S:.0f} s target: {four / TARGET_S:.2f} "
        f"({'met' if four <= TARGET_S else 'MISSED'})"
    )


if __name__ == "__main__":
    main()
