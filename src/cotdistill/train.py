"""Causal-LM fine-tuning on (prompt, target) pairs.

One readable loop: tokenise, batch, AdamW with linear warm-up and decay,
gradient clipping. Loss is on the target tokens only unless
``loss_on: all``. On CPU a run is bit-for-bit repeatable for a given seed,
and a run resumed from a checkpoint ends bit-for-bit where an uninterrupted
one does.

On a GPU: ``precision: bf16`` runs the forward pass under bf16 autocast while
weights, gradients and optimizer state stay in fp32; ``micro_batch_size``
splits each batch into pieces whose gradients add up to the whole batch's
(gradient accumulation), so ``batch_size`` means the same update on any card.
"""

from __future__ import annotations

import logging
import math
import random
import re
import time
from dataclasses import dataclass
from typing import Sequence

import pandas as pd
import torch
from tqdm.auto import tqdm

from . import checkpoints

log = logging.getLogger(__name__)
IGNORE = -100


@dataclass
class TrainConfig:
    """Training options (``training:``); the defaults are the schema's."""

    epochs: float = 1.0
    max_steps: int | None = None  # overrides epochs when set
    batch_size: int = 16
    lr: float = 1e-3
    weight_decay: float = 0.0
    warmup_ratio: float = 0.05
    max_length: int = 256
    loss_on: str = "target"  # "target" (prompt masked) or "all"
    grad_clip: float = 1.0
    log_every: int = 10
    threads: int = 1
    device: str = "auto"  # "auto", "cpu", "cuda"
    precision: str = "fp32"  # "fp32", "bf16" (autocast; fp32 master weights) or "auto"
    micro_batch_size: int | None = None  # None: the whole batch in one pass
    # steps between checkpoints (0: none); written only where train() is given a folder
    checkpoint_every: int = 500

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        """The training options of a config section; other keys are ignored."""
        return cls(**{k: v for k, v in (d or {}).items() if k in cls.__dataclass_fields__})


def bf16_pays(device: torch.device) -> bool:
    """Whether bf16 autocast is native here: a CUDA device with bf16, or a CPU with
    AVX512-BF16 or AMX (oneDNN's check). Elsewhere bf16 is emulated and slower
    (``benchmarks/cpu_bf16.py`` measures it)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    return False


def resolve_precision(precision: str, device: torch.device) -> str:
    """``fp32`` or ``bf16``; ``auto`` is bf16 only where it is native (``bf16_pays``)."""
    if precision not in ("fp32", "bf16", "auto"):
        raise ValueError(f"precision must be 'fp32', 'bf16' or 'auto', not {precision!r}")
    if precision == "auto":
        return "bf16" if bf16_pays(device) else "fp32"
    return precision


def autocast(precision: str, device: torch.device):
    """The forward passes' context: bf16 autocast or nothing."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")


def pick_device(name: str) -> torch.device:
    """``auto``: a GPU when there is one, else the CPU; otherwise the device named."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


# the target's own answer statement: at its start ("Answer: y\nReason: ...", label
# first) or at its end ("Reason: ...\nAnswer: y", rationale first)
_ANSWER_AT_START = re.compile(r"^Answer:[^\n]*")
_ANSWER_AT_END = re.compile(r"\n?Answer:[^\n]*\s*$")


def _fit(tok, prompt_ids: list[int], target: str, max_length: int) -> tuple[list[int], list[int]]:
    """(prompt ids, target ids without EOS) of an over-long pair, cut inside the rationale
    so that the answer statement and the EOS stay: the rationale loses its end; if even
    the prompt and the answer do not fit, the prompt loses its start."""

    def ids(text: str) -> list[int]:
        return tok(text, add_special_tokens=False)["input_ids"] if text else []

    m = _ANSWER_AT_START.match(target) or _ANSWER_AT_END.search(target)
    if m is None:  # no answer statement to protect: keep what fits, and the EOS
        if len(prompt_ids) > max_length - 1:
            prompt_ids = prompt_ids[len(prompt_ids) - (max_length - 1) :]
        return prompt_ids, ids(target)[: max_length - 1 - len(prompt_ids)]
    before, statement, after_ = target[: m.start()], target[m.start() : m.end()], target[m.end() :]
    s_ids = ids(statement)
    room = max_length - 1 - len(s_ids) - len(prompt_ids)  # tokens left for the rationale
    if room < 0:
        prompt_ids, room = prompt_ids[-room:], 0  # cut the prompt's start
    b_ids, a_ids = ids(before), ids(after_)
    b_ids = b_ids[:room]
    a_ids = a_ids[: room - len(b_ids)]
    return prompt_ids, b_ids + s_ids + a_ids


def encode_pairs(
    tok, prompts: Sequence[str], targets: Sequence[str], max_length: int, loss_on: str
) -> tuple[list[list[int]], list[list[int]], int]:
    """Token ids and labels per example; prompt labels are IGNORE when loss_on='target'.

    Returns (input_ids, labels, n_truncated): two lists of one id list per example
    (each at most ``max_length`` long) and how many examples had to be cut. The EOS
    token ends every target so the student learns where to stop. A pair longer than
    ``max_length`` is cut inside its rationale (``_fit``): the answer statement and the
    EOS always stay, so a rationale-first target never loses its label from the loss
    while a label-first one keeps it.
    """
    if loss_on not in ("target", "all"):
        raise ValueError(f"loss_on must be 'target' or 'all', not {loss_on!r}")
    ids_p = tok(list(prompts), add_special_tokens=False)["input_ids"]
    ids_t = tok(list(targets), add_special_tokens=False)["input_ids"]
    inputs, labels, truncated = [], [], 0
    for p, t, text in zip(ids_p, ids_t, targets):
        if len(p) + len(t) + 1 > max_length:
            truncated += 1
            p, t = _fit(tok, p, text, max_length)
        t = t + [tok.eos_token_id]
        inputs.append(p + t)
        labels.append(([IGNORE] * len(p) if loss_on == "target" else list(p)) + t)
    return inputs, labels, truncated


def collate(
    batch_ids: list[list[int]], batch_labels: list[list[int]], pad_id: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Right-padded (rows, longest) tensors of token id lists: ids (``pad_id`` on padding),
    attention mask (1 on real tokens) and labels (IGNORE on padding). ``batch_labels[i]``
    must be as long as ``batch_ids[i]``."""
    for i, (x, y) in enumerate(zip(batch_ids, batch_labels)):
        if len(x) != len(y):
            raise ValueError(f"row {i}: {len(x)} token ids but {len(y)} labels; expected as many")
    n = max(len(x) for x in batch_ids)
    ids = torch.full((len(batch_ids), n), pad_id, dtype=torch.long)
    lab = torch.full((len(batch_ids), n), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(batch_ids), n), dtype=torch.long)
    for i, (x, y) in enumerate(zip(batch_ids, batch_labels)):
        ids[i, : len(x)] = torch.tensor(x)
        lab[i, : len(y)] = torch.tensor(y)
        mask[i, : len(x)] = 1
    return ids, mask, lab


def set_determinism(seed: int, threads: int) -> None:
    """Seed Python and torch, set the thread count, ask for deterministic kernels."""
    random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(max(1, threads))
    torch.use_deterministic_algorithms(True, warn_only=True)


def micro_batches(idx: list[int], size: int | None) -> list[list[int]]:
    """``idx`` in pieces of ``size`` (one piece when size is None)."""
    size = size or len(idx)
    return [idx[i : i + size] for i in range(0, len(idx), size)]


def train(
    model,
    tok,
    prompts: Sequence[str],
    targets: Sequence[str],
    cfg: TrainConfig,
    seed: int,
    progress: bool = True,
    checkpoint_dir=None,
    base: dict | None = None,
) -> pd.DataFrame:
    """Fine-tune ``model`` in place; returns the training log (one row per logged step).

    With ``checkpoint_dir`` and ``cfg.checkpoint_every``, the state is saved every
    N steps and a rerun continues from the last save (see ``checkpoints``), if the
    save belongs to the same examples, settings, seed and ``base`` (what describes
    the starting model, e.g. its student.json).
    """
    set_determinism(seed, cfg.threads)
    device = pick_device(cfg.device)
    precision = resolve_precision(cfg.precision, device)
    if cfg.precision == "auto":
        log.info("precision auto: %s on %s", precision, device)
    model.to(device).train()
    inputs, labels, truncated = encode_pairs(tok, prompts, targets, cfg.max_length, cfg.loss_on)
    if truncated:
        log.warning(
            "%d of %d examples were longer than max_length=%d: cut inside their "
            "rationale (the answer and EOS kept)",
            truncated,
            len(inputs),
            cfg.max_length,
        )
    steps_per_epoch = math.ceil(len(inputs) / cfg.batch_size)
    total = cfg.max_steps or max(1, math.ceil(cfg.epochs * steps_per_epoch))
    warmup = int(cfg.warmup_ratio * total)
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if p.requires_grad:
            (no_decay if p.ndim < 2 or "ln" in name or "norm" in name else decay).append(p)
    # the fused update is one kernel for all tensors: about 4x less optimizer time than
    # the per-tensor loop, which matters for small students (see benchmarks/training.py)
    opt = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": cfg.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=cfg.lr,
        fused=device.type in ("cpu", "cuda"),
    )
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt,
        lambda s: (
            (s + 1) / max(1, warmup)
            if s < warmup
            else max(0.0, (total - s) / max(1, total - warmup))
        ),
    )
    # when to save and log does not change the weights, so it is not part of the run's identity;
    # the base model is (its description and the shapes of what trains)
    settings = {k: v for k, v in vars(cfg).items() if k not in ("checkpoint_every", "log_every")}
    settings["model"] = {
        "base": dict(base or {}),
        "trainable": [(n, tuple(p.shape)) for n, p in model.named_parameters() if p.requires_grad],
    }
    run_id = checkpoints.fingerprint(prompts, targets, settings, seed)
    rows, step, tokens, elapsed_before = [], 0, 0, 0.0
    state = checkpoints.load(checkpoint_dir, run_id) if cfg.checkpoint_every else None
    if state is not None:
        unknown = model.load_state_dict(state["weights"], strict=False).unexpected_keys
        if unknown:
            raise RuntimeError(f"checkpoint weights not in the model: {unknown[:3]}")
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        checkpoints.set_rng_state(state["rng"])
        rows, step, tokens, elapsed_before = (
            state["log"],
            state["step"],
            state["tokens"],
            state["elapsed_s"],
        )
        log.info("resumed from the checkpoint at step %d of %d", step, total)
    in_precision = autocast(precision, device)
    # one permutation per epoch from one generator, as an uninterrupted run draws them
    gen = torch.Generator().manual_seed(seed)
    epoch, order = -1, []
    t0 = time.perf_counter()
    bar = tqdm(total=total, initial=step, desc="train", disable=not progress, mininterval=2.0)
    while step < total:
        while epoch < step // steps_per_epoch:
            order, epoch = torch.randperm(len(inputs), generator=gen).tolist(), epoch + 1
        start = (step % steps_per_epoch) * cfg.batch_size
        idx = order[start : start + cfg.batch_size]
        # the loss averages over target tokens: weight each piece by its share of them
        n_target = sum(sum(x != IGNORE for x in labels[i][1:]) for i in idx)
        loss_value = 0.0
        for piece in micro_batches(idx, cfg.micro_batch_size):
            ids, mask, lab = collate(
                [inputs[i] for i in piece], [labels[i] for i in piece], tok.pad_token_id
            )
            ids, mask, lab = ids.to(device), mask.to(device), lab.to(device)
            share = int((lab[:, 1:] != IGNORE).sum()) / max(n_target, 1)
            if share == 0:
                continue
            with in_precision:
                loss = model(input_ids=ids, attention_mask=mask, labels=lab).loss
            (loss if share == 1.0 else loss * share).backward()
            loss_value += loss.item() * share
            tokens += int(mask.sum())
        if cfg.grad_clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        step += 1
        bar.update(1)
        if step % cfg.log_every == 0 or step == total or step == 1:
            elapsed = elapsed_before + time.perf_counter() - t0
            rows.append(
                {
                    "step": step,
                    "epoch": step / steps_per_epoch,
                    "loss": loss_value,
                    "lr": sched.get_last_lr()[0],
                    "tokens": tokens,
                    "elapsed_s": elapsed,
                    "tokens_per_s": tokens / max(elapsed, 1e-9),
                }
            )
            bar.set_postfix(loss=f"{loss_value:.3f}")
        if (
            cfg.checkpoint_every
            and checkpoint_dir
            and step % cfg.checkpoint_every == 0
            and step < total
        ):
            checkpoints.save(
                checkpoint_dir,
                {
                    "fingerprint": run_id,
                    "step": step,
                    "tokens": tokens,
                    "log": list(rows),
                    "elapsed_s": elapsed_before + time.perf_counter() - t0,
                    "weights": checkpoints.trainable_state(model),
                    "optimizer": opt.state_dict(),
                    "scheduler": sched.state_dict(),
                    "rng": checkpoints.rng_state(),
                },
            )
            log.info("checkpoint at step %d", step)
    bar.close()
    model.eval()
    history = pd.DataFrame(rows)
    history.attrs.update(truncated=truncated, examples=len(inputs))
    return history


@torch.no_grad()
def target_loss(
    model,
    tok,
    prompts: Sequence[str],
    targets: Sequence[str],
    max_length: int = 256,
    batch_size: int = 8,
    loss_on: str = "target",
) -> float:
    """Mean per-token loss of ``model`` on the pairs (the training objective, no update)."""
    was_training = model.training
    model.eval()
    inputs, labels, _ = encode_pairs(tok, prompts, targets, max_length, loss_on)
    total, count = 0.0, 0
    for start in range(0, len(inputs), batch_size):
        ids, mask, lab = collate(
            inputs[start : start + batch_size], labels[start : start + batch_size], tok.pad_token_id
        )
        ids, mask, lab = (t.to(model.device) for t in (ids, mask, lab))
        n = int((lab[:, 1:] != IGNORE).sum())
        total += model(input_ids=ids, attention_mask=mask, labels=lab).loss.item() * n
        count += n
    model.train(was_training)
    return total / max(count, 1)
