"""The ``hf`` teacher backend versus a per-example ``generate`` loop, greedy.

Both write rationales for the same real CommonsenseQA questions with SmolLM2-
135M-Instruct and the built-in few-shot prompt, through the same chat template
and prefill, with the same stop strings and token limit. The baseline is what
a user writes first: tokenise one prompt, ``model.generate`` it, decode. The
project runs the shared few-shot prefix once and batches the questions by
length (``teachers.batching``). Both sides get one untimed warm-up call, then are
timed alike over interleaved rounds (``common.interleaved``); prints the medians,
their spread over rounds, the ratio, and how many outputs differ (they must not).

    python benchmarks/teacher_generation.py [--questions 64] [--rounds 3]
"""

import argparse
import statistics
import tempfile
from pathlib import Path

from common import SHARED, SMOLLM2, csqa, interleaved, ratio_spread, spread

import torch  # noqa: E402

from cotdistill.models import convert_to_hf  # noqa: E402
from cotdistill.teachers.hf import HFTeacher  # noqa: E402


def per_example(teacher: HFTeacher, prompts: list[str]) -> list[str]:
    """The baseline: one prompt at a time through ``generate``."""
    model, tok = teacher.load()
    out = []
    for prompt in prompts:
        enc = tok(prompt, return_tensors="pt", add_special_tokens=not tok.chat_template)
        with torch.inference_mode():
            seq = model.generate(
                **enc,
                max_new_tokens=teacher.gen["max_new_tokens"],
                do_sample=False,
                temperature=None,
                top_p=None,
                top_k=None,
                pad_token_id=tok.pad_token_id,
                stop_strings=teacher.gen["stop"],
                tokenizer=tok,
            )
        out.append(tok.decode(seq[0, enc["input_ids"].shape[1] :], skip_special_tokens=True))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--questions", type=int, default=64)
    ap.add_argument("--max-new-tokens", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--batch-tokens", type=int, default=8192)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--shared", default=str(SHARED))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    data = csqa("train", args.questions, Path(args.shared))
    weights = Path(tempfile.mkdtemp()) / "hf"
    convert_to_hf(SMOLLM2, weights)
    teacher = HFTeacher(
        model=SMOLLM2["model"],
        gguf_file=SMOLLM2["gguf_file"],
        prompt="commonsense_qa",
        max_new_tokens=args.max_new_tokens,
        batch_size=args.batch_size,
        batch_tokens=args.batch_tokens,
        dtype="float32",
        device_map=None,
        weights=str(weights),
    )
    prompts = [teacher.render(q, list(c)) for q, c in zip(data["question"], data["choices"])]
    _, tok = teacher.load()
    lengths = [len(x) for x in tok(prompts, add_special_tokens=False)["input_ids"]]
    print(
        f"SmolLM2-135M-Instruct, {args.threads} thread(s); {len(prompts)} CommonsenseQA "
        f"questions, prompts of {min(lengths)}-{max(lengths)} tokens; greedy, at most "
        f"{args.max_new_tokens} new tokens, stop at {teacher.gen['stop']}",
        flush=True,
    )
    runs = {
        "per-example": lambda: per_example(teacher, prompts),
        "project": lambda: teacher.generate_texts(prompts),
    }
    times, results = interleaved(runs, args.rounds)
    differ = [
        i for i, (a, b) in enumerate(zip(results["per-example"], results["project"])) if a != b
    ]
    new = [len(tok(t, add_special_tokens=False)["input_ids"]) for t in results["project"]]
    print(
        f"per-example loop {spread(times['per-example'], digits=1)}, project "
        f"{spread(times['project'], digits=1)}: "
        f"{ratio_spread(times['per-example'], times['project'])} faster; outputs that "
        f"differ: {len(differ)} of {len(prompts)}; new tokens per row: mean "
        f"{statistics.mean(new):.1f}, at most {max(new)}"
    )
    for i in differ[:3]:
        print(f"  #{i}: {results['per-example'][i]!r}\n   vs {results['project'][i]!r}")


if __name__ == "__main__":
    main()
