"""What a workflow job pays outside its work: a fresh interpreter's imports and exit.

Every job is a new Python process.

- Light jobs (data, conditions, tables, verdicts, plots) import
  ``cotdistill.stages`` and ``cotdistill.logs``; the baseline is the same
  import with the model stack loaded eagerly, as ``stages`` did before it moved
  those imports into the stages that use a model.
- Model jobs (train, evaluate, lens, attribution) import torch and
  transformers; the baseline is the interpreter's normal exit, which tears all
  of it down, against ``logs.end_job()``, which skips that teardown.

Prints medians over interleaved rounds and their ratios.

    python benchmarks/job_startup.py [--rounds 7]
"""

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
LIGHT = "import cotdistill.logs, cotdistill.stages"
EAGER = LIGHT + "; import cotdistill.evaluate, cotdistill.students, cotdistill.train, transformers"
MODEL_JOB = (
    LIGHT + "; import cotdistill.evaluate, cotdistill.students, cotdistill.train; "
    "from transformers import GPT2LMHeadModel"
)
ENDED = MODEL_JOB + "; cotdistill.logs.end_job()"


def startup(code: str) -> float:
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(SRC)!r}); {code}"], check=True
    )
    return time.perf_counter() - t0


def interleaved(codes: dict[str, str], rounds: int) -> dict[str, float]:
    """Median wall time of each snippet, the order alternating between rounds."""
    times = {name: [] for name in codes}
    for r in range(rounds):
        for name in list(codes) if r % 2 == 0 else list(codes)[::-1]:
            times[name].append(startup(codes[name]))
    return {k: statistics.median(v) for k, v in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    startup(EAGER)  # warm the file cache once, for all
    med = interleaved({"eager": EAGER, "light": LIGHT}, args.rounds)
    print(
        f"interpreter + imports of a light job: eager model stack {med['eager']:.2f} s, "
        f"now {med['light']:.2f} s (medians of {args.rounds}): "
        f"{med['eager'] / med['light']:.1f}x faster to start"
    )
    med = interleaved({"teardown": MODEL_JOB, "end_job": ENDED}, args.rounds)
    print(
        f"interpreter + imports + exit of a model job: normal exit {med['teardown']:.2f} s, "
        f"end_job() {med['end_job']:.2f} s (medians of {args.rounds}): "
        f"{med['teardown'] - med['end_job']:.2f} s saved per job, "
        f"{med['teardown'] / med['end_job']:.2f}x"
    )


if __name__ == "__main__":
    main()
