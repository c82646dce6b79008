"""Student models: a tiny GPT-2 built from a config, or any Hugging Face causal LM.

``prepare_student`` writes a base folder (tokenizer and ``student.json``);
``load_student`` builds the model for one training seed. A scratch student's
weights are initialised from the seed, so seeds vary both initialisation and
data order; a pretrained student's seed varies data order (and LoRA init).

Pretrained options: ``dtype``, ``gradient_checkpointing`` (trade compute for
activation memory) and ``lora: {r, alpha, dropout, target_modules}`` (train
low-rank adapters only, via peft). A LoRA run saves its adapters only;
``load_trained`` rebuilds the base and merges them in, so every reader gets a
plain model.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Iterable, Mapping

import torch

from .errors import ConfigError
from .models import load_causal_lm, locate

log = logging.getLogger(__name__)

ADAPTER_ORIGIN = "adapter_base.json"  # beside a LoRA run's adapters: the base they belong to
SPECIAL = {"pad_token": "[PAD]", "unk_token": "[UNK]", "eos_token": "[EOS]"}
# gelu_pytorch_tanh is GPT-2's own tanh GELU (gelu_new) as one fused kernel each way:
# the same function to float rounding, and training steps about 15% faster on a CPU
# the schema's students.* defaults (tests/test_defaults.py holds them equal)
DTYPE = "float32"
LORA_DEFAULTS = {"r": 8, "alpha": 16, "dropout": 0.0, "target_modules": "all-linear"}
SCRATCH_DEFAULTS = {
    "n_layer": 2,
    "n_head": 4,
    "n_embd": 128,
    "n_positions": 256,
    "vocab_size": 4000,
    "activation_function": "gelu_pytorch_tanh",
}


def train_word_tokenizer(texts: Iterable[str], vocab_size: int):
    """A word-level tokenizer (words and punctuation runs) trained on ``texts``."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers, decoders
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel(unk_token=SPECIAL["unk_token"]))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=False)  # words joined by single spaces
    trainer = trainers.WordLevelTrainer(
        vocab_size=vocab_size, special_tokens=list(SPECIAL.values())
    )
    tok.train_from_iterator(texts, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, **SPECIAL)


def prepare_student(
    spec: Mapping[str, Any], corpus: Iterable[str], out_dir: str | Path, weights: str | None = None
) -> None:
    """Write the student's base folder: tokenizer + ``student.json``.

    ``weights``: a local folder to load the pretrained model from instead of
    the spec's source (the workflow's converted copy of a GGUF model).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    kind = spec.get("kind")
    if kind == "scratch_gpt2":
        arch = {**SCRATCH_DEFAULTS, **(spec.get("architecture") or {})}
        tok = train_word_tokenizer(corpus, arch["vocab_size"])
        tok.save_pretrained(out)
        log.info("trained a word-level tokenizer with %d entries", len(tok))
    elif kind == "pretrained":
        from transformers import AutoTokenizer

        path, kw = locate(spec, weights)
        tok = AutoTokenizer.from_pretrained(path, **kw)
        tok.save_pretrained(out)
        arch = {}
    else:
        raise ConfigError(
            "students.*.kind", f"unknown kind '{kind}'", "use 'scratch_gpt2' or 'pretrained'"
        )
    (out / "student.json").write_text(
        json.dumps(
            {"spec": dict(spec), "architecture": arch, "weights": weights}, indent=2, sort_keys=True
        )
    )


def load_tokenizer(base_dir: str | Path, **kwargs):
    """A saved tokenizer, with EOS as its padding token when it has none."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(base_dir, **kwargs)
    if tok.pad_token is None:  # GPT-2 style tokenizers ship without one
        tok.pad_token = tok.eos_token
    return tok


def load_trained(model_dir: str | Path, device):
    """(model in eval mode on ``device``, tokenizer) of a trained run's model folder.

    A LoRA run's folder holds only its adapters (see ``save_trained``): the base
    is rebuilt as training built it and the adapters are merged into it.
    """
    from transformers import AutoModelForCausalLM

    model_dir = Path(model_dir)
    if (model_dir / ADAPTER_ORIGIN).exists():
        from peft import set_peft_model_state_dict
        from safetensors.torch import load_file

        origin = json.loads((model_dir / ADAPTER_ORIGIN).read_text())
        model, _ = load_student(origin["base_dir"], origin["seed"])  # fresh adapters on the base
        set_peft_model_state_dict(model, load_file(model_dir / "adapter_model.safetensors"))
        model = for_saving(model)
    else:
        model = AutoModelForCausalLM.from_pretrained(model_dir)
    return model.to(device).eval(), load_tokenizer(model_dir)


def save_trained(model, tok, base_dir: str | Path, seed: int, out_dir: str | Path) -> None:
    """Save a trained run: the whole model, or for a LoRA run its adapters only
    (megabytes instead of the base's gigabytes) with where its base comes from."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if hasattr(model, "peft_config"):
        model.save_pretrained(out_dir)
        (out_dir / ADAPTER_ORIGIN).write_text(
            json.dumps({"base_dir": str(base_dir), "seed": seed}, indent=2) + "\n"
        )
    else:
        for_saving(model).save_pretrained(out_dir)
    tok.save_pretrained(out_dir)


def load_student(base_dir: str | Path, seed: int):
    """(model, tokenizer) for one run; scratch weights are drawn from ``seed``;
    pretrained weights load in the spec's ``dtype`` (default float32)."""
    from transformers import GPT2Config, GPT2LMHeadModel

    meta = json.loads((Path(base_dir) / "student.json").read_text())
    tok = load_tokenizer(base_dir)
    torch.manual_seed(seed)
    if meta["spec"]["kind"] == "scratch_gpt2":
        arch = {k: v for k, v in meta["architecture"].items() if k != "vocab_size"}
        config = GPT2Config(
            vocab_size=len(tok),
            bos_token_id=tok.eos_token_id,
            eos_token_id=tok.eos_token_id,
            pad_token_id=tok.pad_token_id,
            **arch,
        )
        model = GPT2LMHeadModel(config)
    else:
        spec = meta["spec"]
        path, kw = locate(spec, meta.get("weights"))
        model = load_causal_lm(path, spec.get("dtype", DTYPE), **kw)
    if model.config.pad_token_id is None:
        model.config.pad_token_id = tok.pad_token_id
    spec = meta["spec"]
    if spec.get("gradient_checkpointing"):
        # renamed in recent transformers; older releases only have the first name
        enable = (
            getattr(model, "activation_checkpointing_enable", None)
            or model.gradient_checkpointing_enable
        )
        enable()
        model.config.use_cache = False  # the cache is useless while training and clashes with it
    if spec.get("lora"):
        model = add_lora(model, spec["lora"])
    return model, tok


def add_lora(model, lora: Mapping[str, Any]):
    """Wrap ``model`` so only low-rank adapters train (peft)."""
    try:
        from peft import LoraConfig, get_peft_model
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ConfigError(
            "students.*.lora",
            "LoRA needs the peft package",
            "pip install 'cotdistill[lora]' or remove 'lora:'",
        ) from e
    lora = {**LORA_DEFAULTS, **lora}
    config = LoraConfig(
        r=int(lora["r"]),
        lora_alpha=int(lora["alpha"]),
        lora_dropout=float(lora["dropout"]),
        target_modules=lora["target_modules"],
        task_type="CAUSAL_LM",
    )
    model = get_peft_model(model, config)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    log.info(
        "LoRA: %d trainable parameters (%.2f%% of %d)",
        trainable,
        100 * trainable / model.num_parameters(),
        model.num_parameters(),
    )
    return model


def for_saving(model):
    """The plain model: LoRA adapters merged into the weights."""
    if hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()
    model.config.use_cache = True
    return model
