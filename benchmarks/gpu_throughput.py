"""GPU throughput of the project's training loop and of batched generation, random weights.

Random-initialised models of a real model's shape are enough for speed and
memory (never for accuracy). Prints training tokens/s, model FLOPs utilisation
(6 x parameters x tokens/s against a dense bf16 peak, 790 TFLOP/s measured on
H100/H200 here) and peak memory; then generation tokens/s of a 7B model.

    python benchmarks/gpu_throughput.py --tokenizer FOLDER [--train-steps 20]
        [--autocast] [--micro-batch 4]

``--tokenizer``: any fast tokenizer folder (only used to make text of the right
length; ids stay below every model's vocabulary).
"""

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import torch  # noqa: E402

PEAK_BF16 = 790e12
# Gemma-2B and Mistral-7B shapes (their published configs)
GEMMA_2B = dict(
    model_type="gemma",
    hidden_size=2048,
    intermediate_size=16384,
    num_hidden_layers=18,
    num_attention_heads=8,
    num_key_value_heads=1,
    head_dim=256,
    vocab_size=256000,
)
MISTRAL_7B = dict(
    model_type="mistral",
    hidden_size=4096,
    intermediate_size=14336,
    num_hidden_layers=32,
    num_attention_heads=32,
    num_key_value_heads=8,
    vocab_size=32000,
)


def random_model(shape: dict, dtype=torch.bfloat16):
    from transformers import AutoConfig, AutoModelForCausalLM

    shape = dict(shape)
    config = AutoConfig.for_model(shape.pop("model_type"), **shape)
    torch.manual_seed(0)
    with torch.device("cuda"):
        return AutoModelForCausalLM.from_config(config, dtype=dtype)


def words(tok, n_tokens: int, rng: random.Random) -> str:
    vocab = [w for w in tok.get_vocab() if w.isalpha() and len(w) > 3][:5000]
    text = " ".join(rng.choice(vocab) for _ in range(n_tokens))
    ids = tok(text, add_special_tokens=False)["input_ids"][:n_tokens]
    return tok.decode(ids)


def bench_train(
    tok,
    steps: int,
    batch: int,
    seq: int,
    checkpointing: bool,
    autocast: bool = False,
    micro_batch: int | None = None,
) -> None:
    """bf16 weights and optimizer state; or (autocast) fp32 master weights and optimizer
    with the forward in bf16 autocast: the recipe ``precision: bf16`` trains with."""
    from cotdistill.train import TrainConfig, train

    model = random_model(GEMMA_2B, torch.float32 if autocast else torch.bfloat16)
    if checkpointing:
        model.gradient_checkpointing_enable()
        model.config.use_cache = False
    n_params = model.num_parameters()
    rng = random.Random(0)
    prompts = [words(tok, seq // 2, rng) for _ in range(batch * steps)]
    targets = [words(tok, seq // 2 - 2, rng) for _ in range(batch * steps)]
    cfg = TrainConfig(
        max_steps=steps,
        batch_size=batch,
        lr=1e-5,
        max_length=seq,
        log_every=1,
        loss_on="all",
        device="cuda",
        precision="bf16" if autocast else "fp32",
        micro_batch_size=micro_batch,
    )
    torch.cuda.reset_peak_memory_stats()
    hist = train(model, tok, prompts, targets, cfg, seed=0, progress=False)
    warm = hist.iloc[3:]  # skip the first steps (allocation, kernel selection)
    tok_s = (warm["tokens"].iloc[-1] - hist["tokens"].iloc[2]) / (
        warm["elapsed_s"].iloc[-1] - hist["elapsed_s"].iloc[2]
    )
    recipe = "fp32 weights, bf16 autocast" if autocast else "bf16 weights"
    print(
        f"train: Gemma-2B shape ({n_params / 1e9:.2f}B parameters, {recipe}, AdamW, "
        f"checkpointing={checkpointing}, micro-batch {micro_batch or batch}), "
        f"batch {batch} x {seq} tokens: {tok_s:,.0f} tokens/s, "
        f"MFU {6 * n_params * tok_s / PEAK_BF16:.1%} of {PEAK_BF16 / 1e12:.0f} TFLOP/s, "
        f"peak memory {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB"
    )
    del model
    torch.cuda.empty_cache()


@torch.no_grad()
def bench_generate(tok, batch: int, prompt_len: int, new_tokens: int) -> None:
    model = random_model(MISTRAL_7B).eval()
    ids = torch.randint(100, 30000, (batch, prompt_len), device="cuda")
    model.generate(ids[:, :16], max_new_tokens=4, do_sample=False)  # warm-up
    torch.cuda.reset_peak_memory_stats()
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    out = model.generate(
        ids,
        attention_mask=torch.ones_like(ids),
        max_new_tokens=new_tokens,
        min_new_tokens=new_tokens,
        do_sample=False,
        pad_token_id=0,
    )
    torch.cuda.synchronize()
    took = time.perf_counter() - t0
    made = (out.shape[1] - prompt_len) * batch
    print(
        f"generate: Mistral-7B shape ({model.num_parameters() / 1e9:.2f}B, bf16), batch {batch}, "
        f"prompt {prompt_len}, {new_tokens} new tokens: {made / took:,.0f} generated tokens/s "
        f"({took:.1f} s), peak memory {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--train-steps", type=int, default=20)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seq", type=int, default=384)
    ap.add_argument("--no-checkpointing", action="store_true")
    ap.add_argument("--gen-batch", type=int, default=32)
    ap.add_argument(
        "--autocast",
        action="store_true",
        help="fp32 master weights with bf16 autocast (training.precision: bf16)",
    )
    ap.add_argument(
        "--micro-batch",
        type=int,
        default=None,
        help="gradient accumulation: pieces of this many examples per batch",
    )
    args = ap.parse_args()
    from cotdistill.students import load_tokenizer

    tok = load_tokenizer(args.tokenizer)
    # generation first: the training loop switches on deterministic algorithms globally
    bench_generate(tok, args.gen_batch, 256, 128)
    bench_train(
        tok,
        args.train_steps,
        args.batch,
        args.seq,
        not args.no_checkpointing,
        args.autocast,
        args.micro_batch,
    )


if __name__ == "__main__":
    main()
