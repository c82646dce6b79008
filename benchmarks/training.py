"""Training throughput of the project's loop against HF ``Trainer`` and the loop's old settings.

The quickstart's student (the scratch GPT-2 of ``config.yaml``) trains on the
quickstart's ``cot_after`` rows, one thread, the same batch size, learning rate
and warm-up for every contender:

- ``project``: ``cotdistill.train.train`` as the workflow runs it;
- ``before``: the same loop with the settings it had before this benchmark
  (GPT-2's ``gelu_new`` activation, the per-tensor AdamW loop);
- ``Trainer``: transformers' ``Trainer`` with target-masked labels (prompt
  tokens set to -100), its default fused AdamW, no evaluation, saving or logging.

Every contender is timed the same way: from a loaded model and the raw rows to the
last optimiser step, so tokenising, building the optimiser and (for ``Trainer``) its
setup count on every side. Tokens/s is the same token count (steps x batch x mean
row length; no padding here, every row of a condition has the same length) over that
time. Each gets an untimed warm-up run, then interleaved rounds; prints the medians,
their spread over rounds and the ratios of the project's figure to the others'.

    python benchmarks/training.py [--rounds 3] [--steps 150]
"""

import argparse
import statistics
import tempfile
import time

import common  # puts src/ on the path
import torch
import yaml

from cotdistill import conditions as C
from cotdistill.data.synthetic import generate_split
from cotdistill.stages import FORMAT_WORDS
from cotdistill.students import load_student, prepare_student
from cotdistill.teachers import run_teacher
from cotdistill.train import IGNORE, TrainConfig, encode_pairs, train


def quickstart():
    """(cot_after rows, student spec, training spec) of the repository's config.yaml."""
    config = yaml.safe_load((common.ROOT / "config.yaml").read_text())
    data = generate_split("train", **config["datasets"]["synthetic"]["params"])
    rat = run_teacher({"backend": "rule_based"}, data, "train")
    rows = C.build_train("cot_after", {}, data, rat)
    corpus = (
        list(data["question"])
        + [" ".join(c) for c in data["choices"]]
        + list(rat["rationale"])
        + [FORMAT_WORDS]
    )
    return rows, corpus, config["students"]["tiny-gpt2"], config["training"]


def project_run(base, rows, spec, steps, old_settings=False) -> float:
    """Seconds of ``train()`` on a freshly loaded student."""
    model, tok = load_student(base, 0)
    if old_settings:
        from transformers.activations import ACT2FN

        for block in model.transformer.h:
            block.mlp.act = ACT2FN["gelu_new"]
    cfg = TrainConfig.from_dict({**spec, "max_steps": steps, "threads": 1, "log_every": steps})
    adamw = torch.optim.AdamW
    if old_settings:  # the per-tensor update loop
        torch.optim.AdamW = lambda *a, **k: adamw(*a, **{**k, "fused": False})
    try:
        t0 = time.perf_counter()
        train(model, tok, rows["prompt"], rows["target"], cfg, seed=0, progress=False)
        return time.perf_counter() - t0
    finally:
        torch.optim.AdamW = adamw


def trainer_run(base, rows, spec, steps) -> float:
    """Seconds of tokenising, building and running ``Trainer`` on a freshly loaded student."""
    from transformers import PrinterCallback, Trainer, TrainingArguments

    model, tok = load_student(base, 0)
    t0 = time.perf_counter()
    inputs, labels, _ = encode_pairs(
        tok, rows["prompt"], rows["target"], spec["max_length"], "target"
    )
    dataset = [{"input_ids": i, "labels": y} for i, y in zip(inputs, labels)]

    def collate(batch):
        n = max(len(b["input_ids"]) for b in batch)
        ids = torch.full((len(batch), n), tok.pad_token_id)
        lab = torch.full((len(batch), n), IGNORE)
        mask = torch.zeros((len(batch), n), dtype=torch.long)
        for r, b in enumerate(batch):
            ids[r, : len(b["input_ids"])] = torch.tensor(b["input_ids"])
            lab[r, : len(b["labels"])] = torch.tensor(b["labels"])
            mask[r, : len(b["input_ids"])] = 1
        return {"input_ids": ids, "attention_mask": mask, "labels": lab}

    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(
            output_dir=out,
            max_steps=steps,
            per_device_train_batch_size=spec["batch_size"],
            learning_rate=spec["lr"],
            warmup_steps=int(spec["warmup_ratio"] * steps),
            weight_decay=0.0,
            max_grad_norm=1.0,
            logging_strategy="no",
            save_strategy="no",
            report_to=[],
            use_cpu=True,
            seed=0,
            dataloader_num_workers=0,
            disable_tqdm=True,
        )
        trainer = Trainer(model=model, args=args, train_dataset=dataset, data_collator=collate)
        trainer.remove_callback(PrinterCallback)  # its end-of-training metrics line
        trainer.train()
        return time.perf_counter() - t0


def tokens_read(base, rows, spec, steps) -> float:
    """Tokens every contender's model reads: steps x batch x the mean row length."""
    _, tok = load_student(base, 0)
    inputs, _, _ = encode_pairs(tok, rows["prompt"], rows["target"], spec["max_length"], "target")
    return steps * spec["batch_size"] * statistics.mean(len(i) for i in inputs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=150)
    args = ap.parse_args()
    torch.set_num_threads(1)
    rows, corpus, student, spec = quickstart()
    with tempfile.TemporaryDirectory() as base:
        prepare_student(student, corpus, base)
        runs = {
            "project": lambda: project_run(base, rows, spec, args.steps),
            "before": lambda: project_run(base, rows, spec, args.steps, old_settings=True),
            "Trainer": lambda: trainer_run(base, rows, spec, args.steps),
        }
        tokens = tokens_read(base, rows, spec, args.steps)
        # each call times itself from the loaded model on (common.interleaved would
        # count the model load too); the same warm-up and alternating order
        seconds = {name: [] for name in runs}
        for fn in runs.values():  # warm-up, untimed
            fn()
        for r in range(args.rounds):
            for name in list(runs) if r % 2 == 0 else list(runs)[::-1]:
                seconds[name].append(runs[name]())
                print(f"  round {r + 1}: {name:8s} {seconds[name][-1]:7.2f} s", flush=True)
    speed = {k: [tokens / s for s in v] for k, v in seconds.items()}
    print(
        f"training, quickstart student, {len(rows)} cot_after rows, {args.steps} steps, "
        f"1 thread, {tokens:.0f} tokens read (tokens/s):"
    )
    for name, values in speed.items():
        print(f"  {name:8s} {common.spread(values, 'tokens/s', 0)}")
    print(
        f"project / Trainer: {common.ratio_spread(seconds['Trainer'], seconds['project'])}; "
        f"project / before: {common.ratio_spread(seconds['before'], seconds['project'])}"
    )


if __name__ == "__main__":
    main()
