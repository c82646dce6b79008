"""Integrated gradients of the gold label's log-probability over rationale tokens.

captum's ``LayerIntegratedGradients`` on the input embedding layer does the
path integral. What this module adds is speed: on a CPU, the prompt before the
rationale, identical at every step of the path, has its keys and values
computed once per example and shared by all steps (a prefix cache); on a GPU several
examples of similar length go through captum together (right-padded, with an
attention mask), so one forward-backward pass carries ``examples x steps``
rows; and logits are computed only at the positions that predict label tokens
(``logits_to_keep``) instead of over the whole sequence and vocabulary.

The baseline equals the input except at rationale positions, which hold the
baseline token. Prompt, marks and label are therefore identical on the whole
path, their attributions are exactly zero, and completeness reads:
``sum(rationale scores) = F(input) - F(baseline)``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal, Sequence

import torch
from tqdm.auto import tqdm

from .layout import Layout

log = logging.getLogger(__name__)

Method = Literal[
    "gausslegendre", "riemann_trapezoid", "riemann_middle", "riemann_left", "riemann_right"
]


@dataclass
class IGResult:
    """Per example: rationale-token scores and the path's end values."""

    id: str
    scores: list[float]  # one per Layout.rationale_pos
    f_input: float  # F(x): log p(label | prompt, rationale)
    f_baseline: float  # F(x'): the same with rationale tokens replaced by the baseline
    delta: float  # captum's convergence delta: sum(scores) - (F(x) - F(x'))


class LabelLogProb(torch.nn.Module):
    """F(ids) = sum over label tokens of log p(token | everything before it).

    Rows are right-padded; ``keep`` is the (shared) sorted list of sequence
    positions whose logits are needed, and ``label_slot`` / ``label_ids`` /
    ``label_mask`` (rows, L) say, per row, which kept logits predict which label
    token (padding slots are masked out). ``past`` is an optional shared prefix:
    its keys and values per layer, flat ``(k0, v0, k1, v1, ...)``, each
    (rows, kv_heads, P, head_dim); ``input_ids`` then hold only what follows it.
    """

    def __init__(self, model):
        super().__init__()
        self.model = model
        self._keep_ok = True

    def forward(
        self,
        input_ids,
        attention_mask,
        position_ids,
        label_slot,
        label_ids,
        label_mask,
        keep,
        *past,
    ):
        """(rows,) summed log-probability of each row's gold label tokens.

        input_ids: (rows, T) the tokens run; attention_mask: (rows, P + T) or None, P the
        shared prefix's length; position_ids: (rows, T) or None; label_slot, label_ids,
        label_mask: (rows, L), L the label's tokens; keep: (K,) positions whose logits are
        computed; past: the prefix's keys and values, 2 x layers tensors.
        """
        kw = {"input_ids": input_ids, "attention_mask": attention_mask}
        if past:
            from transformers import DynamicCache

            cache = DynamicCache()
            for layer in range(len(past) // 2):
                cache.update(past[2 * layer], past[2 * layer + 1], layer)
            kw.update(past_key_values=cache, position_ids=position_ids, use_cache=True)
        else:
            kw["use_cache"] = False
        logits = self._logits(kw, keep)  # (rows, K, V)
        slot = label_slot.unsqueeze(-1).expand(-1, -1, logits.shape[-1])  # (rows, L, V)
        logp = torch.log_softmax(logits.gather(1, slot).float(), dim=-1)  # (rows, L, V)
        token_logp = logp.gather(-1, label_ids.unsqueeze(-1)).squeeze(-1)  # (rows, L)
        return (token_logp * label_mask).sum(-1)  # (rows,)

    def _logits(self, kw, keep):
        if self._keep_ok:
            try:
                keep_t = torch.tensor(keep, device=kw["input_ids"].device)
                return self.model(**kw, logits_to_keep=keep_t).logits
            except TypeError:  # an architecture without logits_to_keep: compute all
                self._keep_ok = False
        return self.model(**kw).logits[:, list(keep)]


def prefix_lengths(layouts: Sequence[Layout]) -> list[int]:
    """Per example, the tokens before its first rationale token: identical on the whole
    path from baseline to input, so their keys and values can be computed once."""
    return [
        min(x.rationale_pos[0] if x.rationale_pos else len(x.ids), x.label_pos[0] - 1)
        for x in layouts
    ]


@torch.no_grad()
def _prefix_past(model, layouts: Sequence[Layout], starts: Sequence[int], device) -> tuple:
    """Keys and values of each example's prefix (computed alone, so unpadded), left-padded
    with zeros to the longest prefix: flat ``(k0, v0, ...)``, each (batch, kv_heads, P, d)."""
    width = max(starts)
    per_example = []
    for x, n in zip(layouts, starts):
        cache = model(
            input_ids=torch.tensor([x.ids[:n]], device=device), use_cache=True
        ).past_key_values
        layers = (
            [(lay.keys, lay.values) for lay in cache.layers]
            if hasattr(cache, "layers")
            else list(zip(cache.key_cache, cache.value_cache))
        )
        per_example.append(
            [torch.nn.functional.pad(t, (0, 0, width - n, 0)) for kv in layers for t in kv]
        )
    return tuple(torch.cat(ts, dim=0) for ts in zip(*per_example))


def _batch_tensors(
    layouts: Sequence[Layout],
    baseline_id: int,
    pad_id: int,
    device,
    starts: Sequence[int] | None = None,
):
    """Inputs, baselines and label bookkeeping of a batch of examples (right-padded).

    With ``starts`` (prefix lengths), rows hold only the tokens after each prefix;
    the attention mask then spans the left-padded prefix too, and position ids
    continue each example's own prefix.
    """
    starts = list(starts) if starts is not None else [0] * len(layouts)
    width = max(starts)
    n, t = len(layouts), max(len(x.ids) - s for x, s in zip(layouts, starts))
    n_label = max(len(x.label_pos) for x in layouts)
    ids = torch.full((n, t), pad_id, dtype=torch.long)
    mask = torch.zeros((n, width + t), dtype=torch.long)
    positions = torch.zeros((n, t), dtype=torch.long)
    base = torch.full((n, t), pad_id, dtype=torch.long)
    for i, (x, s) in enumerate(zip(layouts, starts)):
        ids[i, : len(x.ids) - s] = torch.tensor(x.ids[s:])
        mask[i, width - s : width + len(x.ids) - s] = 1
        positions[i] = torch.arange(s, s + t)
        base[i] = ids[i]
        base[i, [p - s for p in x.rationale_pos]] = baseline_id
    keep = sorted({p - 1 - s for x, s in zip(layouts, starts) for p in x.label_pos})
    slot_of = {p: k for k, p in enumerate(keep)}  # logits at p-1 predict the token at p
    label_slot = torch.zeros((n, n_label), dtype=torch.long)
    label_ids = torch.zeros((n, n_label), dtype=torch.long)
    label_mask = torch.zeros((n, n_label), dtype=torch.float32)
    for i, (x, s) in enumerate(zip(layouts, starts)):
        for j, p in enumerate(x.label_pos):
            label_slot[i, j], label_ids[i, j], label_mask[i, j] = slot_of[p - 1 - s], x.ids[p], 1
    # no padding, no mask: attention then takes its fast causal path
    mask_arg = None if bool(mask.all()) else mask.to(device)
    pos_arg = positions.to(device) if width else None
    extra = (mask_arg, pos_arg) + tuple(a.to(device) for a in (label_slot, label_ids, label_mask))
    return ids.to(device), base.to(device), extra + (tuple(keep),)


def integrated_gradients(
    model,
    layouts: Sequence[Layout],
    baseline_id: int,
    pad_id: int,
    n_steps: int = 32,
    internal_batch_size: int = 256,
    method: Method = "gausslegendre",
    progress: bool = True,
    examples_per_call: int | None = None,
    share_prefix: bool | None = None,
) -> list[IGResult]:
    """IG scores for every example in ``layouts`` (order kept).

    On a GPU, examples are sorted by length and grouped so that one captum call
    holds about ``internal_batch_size`` rows (examples x steps); on a CPU they go
    one at a time. captum splits a call's rows into ``internal_batch_size`` chunks.
    With ``share_prefix`` (default: on a CPU), the tokens before the rationale (the
    same at every step) are run once per example and enter every step as a
    key/value cache: about 2x on a CPU, but slower on an H100, where the extra
    small passes and cache copies cost more than the prompt's share of the work.
    Gradients flow to the embeddings only: parameters are frozen.
    """
    from captum.attr import LayerIntegratedGradients

    if n_steps < 1 or internal_batch_size < 1:
        raise ValueError(
            f"n_steps={n_steps} and internal_batch_size={internal_batch_size} must be positive"
        )
    device = next(model.parameters()).device
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    f = LabelLogProb(model)
    lig = LayerIntegratedGradients(f, model.get_input_embeddings())
    # A GPU needs many rows per pass to be busy. A CPU is compute-bound already at one
    # example's steps, and padding only adds work (measured: benchmarks/attribution.py).
    per_call = examples_per_call or (
        max(1, internal_batch_size // n_steps) if device.type != "cpu" else 1
    )
    if share_prefix is None:
        share_prefix = device.type == "cpu"
    order = sorted(range(len(layouts)), key=lambda i: len(layouts[i].ids))
    results: dict[int, IGResult] = {}
    bar = tqdm(
        total=len(layouts), desc="integrated gradients", disable=not progress, mininterval=2.0
    )
    for start in range(0, len(order), per_call):
        chunk = [layouts[i] for i in order[start : start + per_call]]
        starts = prefix_lengths(chunk) if share_prefix else [0] * len(chunk)
        ids, base, extra = _batch_tensors(chunk, baseline_id, pad_id, device, starts)
        if share_prefix:
            extra = extra + _prefix_past(model, chunk, starts, device)
        attr, delta = lig.attribute(
            ids,
            baselines=base,
            additional_forward_args=extra,
            n_steps=n_steps,
            method=method,
            internal_batch_size=max(internal_batch_size, len(chunk)),
            return_convergence_delta=True,
        )
        token_scores = attr.sum(-1).float().cpu()  # (batch, T)
        with torch.no_grad():
            f_in, f_base = (f(x, *extra).float().cpu() for x in (ids, base))  # (batch,)
        for b, x in enumerate(chunk):
            results[order[start + b]] = IGResult(
                x.id,
                token_scores[b, [p - starts[b] for p in x.rationale_pos]].tolist(),
                float(f_in[b]),
                float(f_base[b]),
                float(delta[b]),
            )
        bar.update(len(chunk))
    bar.close()
    return [results[i] for i in range(len(layouts))]
