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

MIN_SHARED = 8  # fewer shared tokens than this: not worth a cache copy per batch


def shared_prefix_length(token_lists: Sequence[Sequence[int]]) -> int:
    """Length of the token prefix every list shares, leaving each at least one own token."""
    if not token_lists:
        return 0
    limit = min(len(t) for t in token_lists) - 1
    first = token_lists[0]
    n = 0
    while n < limit and all(t[n] == first[n] for t in token_lists):
        n += 1
    return max(n, 0)


def plan_batches(lengths: Sequence[int], max_rows: int, max_tokens: int,
                 new_tokens: int) -> list[list[int]]:
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
def generate_batched(model, tok, token_lists: Sequence[Sequence[int]], gen_kwargs: dict,
                     max_rows: int, max_tokens: int, share_prefix: bool = True,
                     on_batch=None) -> list[str]:
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
        cache = model(input_ids=torch.tensor([prefix], device=device), use_cache=True).past_key_values
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
            ids[r, shared + width - len(own[i]):] = torch.tensor(own[i], dtype=torch.long)
            mask[r, shared + width - len(own[i]):] = 1
        kwargs = dict(gen_kwargs)
        if cache is not None:
            rows_cache = copy.deepcopy(cache)
            rows_cache.batch_repeat_interleave(len(idx))
            kwargs["past_key_values"] = rows_cache
        seqs = model.generate(input_ids=ids.to(device), attention_mask=mask.to(device),
                              pad_token_id=pad, **kwargs)
        texts = tok.batch_decode(seqs[:, ids.shape[1]:], skip_special_tokens=True)
        for i, text in zip(idx, texts):
            out[i] = text
        if on_batch:
            on_batch(len(idx))
    return out
