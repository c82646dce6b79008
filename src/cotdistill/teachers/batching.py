"""Batched greedy or sampled generation for many prompts that share a few-shot prefix.

Every teacher prompt starts with the same instructions and worked examples,
often most of its tokens. The shared tokens are run through the model once;
their key/value cache is copied to every row of a batch, and each row then
carries only its own question, left-padded *after* the shared part (position
ids follow the attention mask, so the padding is invisible). Rows are sorted by
length and batched under a row cap and a token budget, so batches carry little
padding. Token ids are exactly those of tokenising each whole prompt: the
shared part is the common prefix of those token lists, never a re-tokenisation.
"""

from __future__ import annotations

import copy
from typing import Sequence

import torch

from ..tokens import common_prefix_length

MIN_SHARED = 8  # fewer shared tokens than this: not worth a cache copy per batch


def shared_prefix_length(token_lists: Sequence[Sequence[int]]) -> int:
    """Length of the token prefix every list shares, leaving each at least one own token."""
    if not token_lists:
        return 0
    return min(common_prefix_length(token_lists), min(len(t) for t in token_lists) - 1)


def plan_batches(
    lengths: Sequence[int], max_rows: int, max_tokens: int, new_tokens: int
) -> list[list[int]]:
    """Indices grouped into batches, longest first; a batch's cost is rows x (its longest
    row + new_tokens) and stays within ``max_tokens`` (a single row may exceed it)."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches: list[list[int]] = []
    for i in order:
        if batches:
            rows = batches[-1]
            width = lengths[rows[0]] + new_tokens  # the first row is the batch's longest
            if len(rows) < max_rows and (len(rows) + 1) * width <= max_tokens:
                rows.append(i)
                continue
        batches.append([i])
    return batches


@torch.inference_mode()
def generate_batched(
    model,
    tok,
    token_lists: Sequence[Sequence[int]],
    gen_kwargs: dict,
    max_rows: int,
    max_tokens: int,
    share_prefix: bool = True,
    on_batch=None,
) -> list[str]:
    """Decoded continuations of ``token_lists`` (full prompts as token ids), in input order.

    ``gen_kwargs`` go to ``model.generate`` (max_new_tokens, do_sample, stop
    strings...). ``on_batch(n_rows)`` is called after each batch (progress).
    """
    device = model.device
    shared = shared_prefix_length(token_lists) if share_prefix and len(token_lists) > 1 else 0
    if shared < MIN_SHARED:
        shared = 0
    prefix = list(token_lists[0][:shared])
    own = [list(t[shared:]) for t in token_lists]
    cache = None
    if shared:
        cache = model(
            input_ids=torch.tensor([prefix], device=device), use_cache=True
        ).past_key_values
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    out: list[str] = [""] * len(token_lists)
    new_tokens = int(gen_kwargs.get("max_new_tokens", 0))
    for idx in plan_batches([len(o) for o in own], max_rows, max_tokens, new_tokens):
        width = max(len(own[i]) for i in idx)
        ids = torch.full((len(idx), shared + width), pad, dtype=torch.long)
        mask = torch.zeros_like(ids)
        ids[:, :shared] = torch.tensor(prefix, dtype=torch.long)
        mask[:, :shared] = 1
        for r, i in enumerate(idx):
            ids[r, shared + width - len(own[i]) :] = torch.tensor(own[i], dtype=torch.long)
            mask[r, shared + width - len(own[i]) :] = 1
        rows_cache = None
        if cache is not None:
            rows_cache = copy.deepcopy(cache)
            rows_cache.batch_repeat_interleave(len(idx))
        if gen_kwargs.get("do_sample"):
            kwargs = dict(gen_kwargs, **({"past_key_values": rows_cache} if rows_cache else {}))
            seqs = model.generate(
                input_ids=ids.to(device), attention_mask=mask.to(device), pad_token_id=pad, **kwargs
            )
            texts = tok.batch_decode(seqs[:, ids.shape[1] :], skip_special_tokens=True)
        else:
            new = greedy(
                model,
                tok,
                ids.to(device),
                mask.to(device),
                rows_cache,
                shared,
                new_tokens,
                gen_kwargs.get("stop_strings") or [],
            )
            texts = tok.batch_decode(new, skip_special_tokens=True)
        for i, text in zip(idx, texts):
            out[i] = text
        if on_batch:
            on_batch(len(idx))
    return out


def _eos_ids(model, tok) -> set[int]:
    eos = model.generation_config.eos_token_id
    eos = tok.eos_token_id if eos is None else eos
    return set(eos if isinstance(eos, (list, tuple)) else [eos]) - {None}


@torch.inference_mode()
def greedy(
    model,
    tok,
    ids: torch.Tensor,
    mask: torch.Tensor,
    cache,
    cached: int,
    max_new_tokens: int,
    stop: Sequence[str],
) -> list[list[int]]:
    """Greedy decoding that drops a row from the batch as soon as it ends.

    ``generate`` keeps every row until the longest one ends, so a batch whose
    rows stop after 20 tokens but one runs to 60 pays for 60 each. Here a row
    leaves (its cache rows too) at its end-of-sequence token or once its text
    contains a stop string; the token that completes the stop string is kept,
    as ``generate`` keeps it. ``cache`` holds the first ``cached`` positions
    of every row (or is None). Returns each row's new token ids.
    """
    from transformers import DynamicCache

    eos = _eos_ids(model, tok)
    tail_tokens = max((len(s) for s in stop), default=0) + 2  # enough tokens to hold a stop string
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    out = model(
        input_ids=ids[:, cached:],
        attention_mask=mask,
        position_ids=positions[:, cached:],
        past_key_values=cache if cache is not None else DynamicCache(),
        use_cache=True,
        logits_to_keep=1,
    )
    cache, logits = out.past_key_values, out.logits[:, -1]
    next_pos = positions[:, -1] + 1
    alive, new = list(range(ids.shape[0])), [[] for _ in range(ids.shape[0])]
    for step in range(max_new_tokens):
        tokens = logits.argmax(-1)
        keep = []
        for j, (row, token) in enumerate(zip(alive, tokens.tolist())):
            if token in eos:
                continue
            new[row].append(token)
            if stop and any(s in tok.decode(new[row][-tail_tokens:]) for s in stop):
                continue
            keep.append(j)
        if not keep or step == max_new_tokens - 1:
            break
        if len(keep) < len(alive):
            index = torch.tensor(keep, device=ids.device)
            cache.batch_select_indices(index)
            mask, tokens, next_pos = mask[index], tokens[index], next_pos[index]
            alive = [alive[j] for j in keep]
        mask = torch.cat([mask, torch.ones_like(mask[:, :1])], dim=1)
        out = model(
            input_ids=tokens[:, None],
            attention_mask=mask,
            position_ids=next_pos[:, None],
            past_key_values=cache,
            use_cache=True,
        )
        cache, logits = out.past_key_values, out.logits[:, -1]
        next_pos = next_pos + 1
    return new
