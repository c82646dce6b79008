"""Disk a config's trained weights take, from its dry run: before and after run
weights became temporary and LoRA runs began saving adapters only.

    python benchmarks/disk_footprint.py [--configfile config/paper.yaml]

The dry run (--forceall: every job, whatever is on disk) lists the train jobs.
Each run's weights are sized from the student's architecture, built on
PyTorch's meta device (no memory, no download): a hub model's architecture
comes from the table below (its published config), a local one from its
config.json, a scratch one from the config. Sizes are parameters x bytes of
the dtype they are saved in; tokenizer files and tables (a few MB) are left out.

- before: every run kept its full model; a LoRA run saved base + merged adapters.
- after, kept: what stays once the run ends (keep_weights: false, the default:
  nothing; with keep_weights: true, full models and LoRA adapters).
- after, in flight: one run's weights live until its evaluation, lens and
  attribution jobs have read them, plus its checkpoint while it trains
  (trainable weights + AdamW's two moments, fp32).
"""

import argparse
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import torch
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from cotdistill.students import SCRATCH_DEFAULTS  # noqa: E402

# published configs (config.json on each model's hub page) of the reference grid's students
HUB_CONFIGS = {
    "openai-community/gpt2": {
        "model_type": "gpt2",
        "n_layer": 12,
        "n_head": 12,
        "n_embd": 768,
        "vocab_size": 50257,
        "n_positions": 1024,
    },
    "microsoft/phi-1_5": {
        "model_type": "phi",
        "hidden_size": 2048,
        "intermediate_size": 8192,
        "num_hidden_layers": 24,
        "num_attention_heads": 32,
        "vocab_size": 51200,
    },
    "google/gemma-2b": {
        "model_type": "gemma",
        "hidden_size": 2048,
        "intermediate_size": 16384,
        "num_hidden_layers": 18,
        "num_attention_heads": 8,
        "num_key_value_heads": 1,
        "head_dim": 256,
        "vocab_size": 256000,
    },
}
BYTES = {"float32": 4, "bfloat16": 2, "float16": 2}


def train_jobs(configfile: str) -> Counter:
    """Train jobs per student in the config's dry run."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "-n",
            "--forceall",
            "--quiet",
            "progress",
            "--configfile",
            configfile,
        ],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    blocks = re.findall(r"^rule train:\n(.*?)(?=^\S|\Z)", out.stdout, re.M | re.S)
    return Counter(re.search(r"student=([^,\s]+)", b)[1] for b in blocks)


def meta_model(spec: dict):
    """The student's architecture on the meta device (shapes only)."""
    from transformers import AutoConfig, AutoModelForCausalLM, GPT2Config

    if spec.get("kind") == "scratch_gpt2":
        config = GPT2Config(
            **{**SCRATCH_DEFAULTS, **(spec.get("architecture") or {})},
            bos_token_id=0,
            eos_token_id=0,
        )  # a word vocabulary has no 50256
    elif spec["model"] in HUB_CONFIGS:
        fields = dict(HUB_CONFIGS[spec["model"]])
        config = AutoConfig.for_model(fields.pop("model_type"), **fields)
    else:
        config = AutoConfig.from_pretrained(spec["model"])
    with torch.device("meta"):
        return AutoModelForCausalLM.from_config(config)


def lora_params(model, lora: dict) -> int:
    """Adapter parameters: r x (in + out) for every targeted linear layer."""
    targets = lora.get("target_modules") or "all-linear"
    r = int(lora.get("r", 8))
    total = 0
    for name, module in model.named_modules():
        if (
            isinstance(module, torch.nn.Linear)
            and "lm_head" not in name
            and (targets == "all-linear" or name.rsplit(".", 1)[-1] in targets)
        ):
            total += r * (module.in_features + module.out_features)
    return total


def gb(n: float) -> str:
    return f"{n / 1e9:,.1f} GB" if n >= 1e8 else f"{n / 1e6:,.1f} MB"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--configfile", default="config/paper.yaml")
    args = ap.parse_args()
    config = yaml.safe_load((REPO / args.configfile).read_text())
    jobs = train_jobs(args.configfile)
    print(f"{args.configfile}: {sum(jobs.values())} training runs")
    print("| student | runs | parameters | full model | LoRA adapters | checkpoint |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    before = kept_if_asked = in_flight = 0.0
    for student, runs in sorted(jobs.items()):
        spec = config["students"][student]
        model = meta_model(spec)
        params = sum(p.numel() for p in model.parameters())
        full = params * BYTES[spec.get("dtype", "float32")]
        adapters = lora_params(model, spec["lora"]) * 4 if spec.get("lora") else None
        trainable = adapters / 4 if adapters else params
        checkpoint = trainable * 4 * 3  # fp32 weights and AdamW's two moments
        print(
            f"| {student} | {runs} | {params / 1e6:,.0f} M | {gb(full)} | "
            f"{gb(adapters) if adapters else '-'} | {gb(checkpoint)} |"
        )
        before += runs * full
        kept_if_asked += runs * (adapters or full)
        in_flight = max(in_flight, (adapters or full) + checkpoint)
    print()
    print(f"before: every run's weights kept                 {gb(before)}")
    print(f"after, kept (keep_weights: false, the default)   {gb(0)}")
    print(
        f"after, kept with keep_weights: true              {gb(kept_if_asked)}"
        f"  ({kept_if_asked / before:.1%} of before)"
    )
    print(f"after, in flight: per running train job, at most {gb(in_flight)}")


if __name__ == "__main__":
    main()
