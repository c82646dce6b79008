"""What a light workflow job pays before its work starts: a fresh interpreter's imports.

Every job is a new Python process. Jobs that touch no model (data, conditions,
tables, verdicts, plots) import ``cotdistill.stages`` and ``cotdistill.logs``;
the baseline is the same import with the model stack loaded eagerly, as
``stages`` did before it moved those imports into the stages that use a model.
Prints medians over interleaved rounds and their ratio.

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


def startup(code: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(SRC)!r}); {code}"],
                   check=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    startup(EAGER)  # warm the file cache once, for both
    times = {"eager": [], "light": []}
    for r in range(args.rounds):
        for who in (("eager", "light") if r % 2 == 0 else ("light", "eager")):
            times[who].append(startup(EAGER if who == "eager" else LIGHT))
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"interpreter + imports of a light job: eager model stack {med['eager']:.2f} s, "
          f"now {med['light']:.2f} s (medians of {args.rounds}): "
          f"{med['eager'] / med['light']:.1f}x faster to start")


if __name__ == "__main__":
    main()
