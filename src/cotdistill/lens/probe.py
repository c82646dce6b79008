"""Read the answer out of every layer of a trained run, per test example.

The readout position is the one that predicts the label letter: the last token
of ``Answer:`` after the prompt, and for rationale-first runs after the
rationale the student generated during evaluation (read from its predictions,
not generated again). Inputs are laid out as evaluation scores the choices:
context and ``Answer: X`` tokenised separately, no special tokens.
"""

from __future__ import annotations

import math
from typing import Sequence

import pandas as pd
import torch
from tqdm.auto import tqdm

from ..formats import answer
from ..data.schema import letters
from ..evaluate import reasoning_prefix
from ..tokens import answer_parts
from ..train import collate
from .readout import LensError, Readout, tolerance
from .tuned import TunedLensConfig, Translators, kl_to_final


def answer_tokens(tok, n_choices: int) -> tuple[list[int], list[int]]:
    """(mark, letters): the tokens of ``Answer: X`` that every letter shares, and the
    first token of each letter's own (the token the readout position predicts)."""
    mark, rest = answer_parts(tok, n_choices)
    if not mark or any(not r for r in rest):
        raise LensError(
            f"cannot place the readout: the tokenizer splits {answer('A')!r} with no "
            "shared prefix or no token of its own per letter"
        )
    own = [r[0] for r in rest]
    if len(set(own)) != len(own):
        raise LensError(
            "two choice letters start with the same token; the lens cannot tell them apart"
        )
    return mark, own


def contexts(test: pd.DataFrame, predictions: pd.DataFrame, rationale_first: bool) -> list[str]:
    """Each test example's text before ``Answer:``, as evaluation scored it."""
    if list(predictions["id"]) != list(test["id"]):
        raise LensError("predictions and test rows differ in ids or order; evaluate the run again")
    if not rationale_first:
        return list(test["prompt"])
    return [
        p + reasoning_prefix(g) + "\n" for p, g in zip(test["prompt"], predictions["generation"])
    ]


def _forward(model, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return model(input_ids=ids.to(model.device), attention_mask=mask.to(model.device)).logits


@torch.no_grad()
def training_states(
    model,
    readout: Readout,
    tok,
    texts: Sequence[str],
    cfg: TunedLensConfig,
    max_length: int,
    batch_size: int,
    progress: bool = True,
) -> torch.Tensor:
    """(positions, L + 1, hidden) states at up to ``cfg.max_positions`` random
    non-padding positions of ``texts`` (float32, on the CPU)."""
    ids = [x[:max_length] for x in tok(list(texts), add_special_tokens=False)["input_ids"]]
    keep_p = min(1.0, cfg.max_positions / max(1, sum(len(x) for x in ids)))
    gen = torch.Generator().manual_seed(cfg.seed)
    bank: list[torch.Tensor] = []
    for start in tqdm(
        range(0, len(ids), batch_size),
        desc="lens: training states",
        disable=not progress,
        mininterval=2.0,
    ):
        chunk = ids[start : start + batch_size]
        x, mask, _ = collate(chunk, chunk, tok.pad_token_id)
        keep = (mask.bool() & (torch.rand(mask.shape, generator=gen) < keep_p)).to(model.device)
        with readout.capture(lambda h: h[keep].float().cpu()) as states:
            _forward(model, x, mask)
        bank.append(torch.stack(states, dim=1))  # (kept, L + 1, hidden)
    return torch.cat(bank)[: cfg.max_positions]


@torch.no_grad()
def read_layers(
    model,
    readout: Readout,
    tok,
    test: pd.DataFrame,
    ctx: Sequence[str],
    translators: Translators | None,
    batch_size: int,
    progress: bool = True,
) -> pd.DataFrame:
    """One row per (example, lens, layer): the gold letter's probability, its rank
    among the choice letters and in the vocabulary, the top choice letter, and the
    KL divergence from the readout to the model's output distribution."""
    n_max = max(len(c) for c in test["choices"])
    mark, letter_ids = answer_tokens(tok, n_max)
    ctx_ids = tok(list(ctx), add_special_tokens=False)["input_ids"]
    seqs = [c + mark for c in ctx_ids]
    dtype = next(model.parameters()).dtype
    lenses = {"logit": None, **({"tuned": translators} if translators is not None else {})}
    rows = []
    for start in tqdm(
        range(0, len(seqs), batch_size), desc="lens", disable=not progress, mininterval=2.0
    ):
        chunk = seqs[start : start + batch_size]
        x, mask, _ = collate(chunk, chunk, tok.pad_token_id)
        pos = torch.tensor([len(s) - 1 for s in chunk], device=model.device)
        rows_at = torch.arange(len(chunk), device=model.device)
        with readout.capture(lambda h: h[rows_at, pos]) as states:
            out = _forward(model, x, mask)[rows_at, pos].float()  # (batch, vocab)
        states = torch.stack(states, dim=1)  # (batch, L + 1, hidden)
        final = readout.logits(states[:, -1])
        gap = (final - out).abs().max().item()
        if gap > tolerance(dtype) * max(1.0, out.abs().max().item()):
            raise LensError(
                f"{type(model).__name__}: the last layer's readout differs from the "
                f"model's logits by {gap:.3g}; its head is not norm + unembedding"
            )
        batch = test.iloc[start : start + len(chunk)]
        for name, lens in lenses.items():
            h = (
                states
                if lens is None
                else torch.stack(
                    [lens(states[:, i].float(), i).to(dtype) for i in range(states.shape[1])], dim=1
                )
            )
            logits = readout.logits(h)  # (batch, L + 1, vocab)
            rows += _records(batch, name, logits, final, letter_ids, pos.tolist())
    return pd.DataFrame(rows)


def _records(
    batch: pd.DataFrame,
    lens: str,
    logits: torch.Tensor,
    final: torch.Tensor,
    letter_ids: list[int],
    positions: list[int],
) -> list[dict]:
    """Rows of one batch under one lens; ``logits`` (batch, L + 1, vocab), ``final``
    (batch, vocab) the model's output logits."""
    n_layers = logits.shape[1]
    names = [letters(len(c)) for c in batch["choices"]]
    gold = torch.tensor(
        [letter_ids[n.index(y)] for n, y in zip(names, batch["label"])], device=logits.device
    )
    logp = torch.log_softmax(logits, dim=-1)  # (batch, L + 1, vocab)
    gold_logp = logp.gather(-1, gold[:, None, None].expand(-1, n_layers, 1))  # (batch, L + 1, 1)
    rank_vocab = 1 + (logp > gold_logp).sum(-1)  # (batch, L + 1)
    own = torch.tensor(letter_ids, device=logits.device)
    choice_logp = logp[..., own]  # (batch, L + 1, max choices)
    width = torch.tensor([len(n) for n in names], device=logits.device)
    valid = torch.arange(len(own), device=logits.device)[None, :] < width[:, None]
    choice_logp = choice_logp.masked_fill(~valid[:, None, :], -torch.inf)
    rank_choices = 1 + (choice_logp > gold_logp).sum(-1)  # (batch, L + 1)
    top = choice_logp.argmax(-1)  # (batch, L + 1)
    kl = kl_to_final(final[:, None, :].expand_as(logits), logits)  # (batch, L + 1)
    gold_logp, rank_vocab, rank_choices, top, kl = (
        t.squeeze(-1).tolist() if t.ndim == 3 else t.tolist()
        for t in (gold_logp, rank_vocab, rank_choices, top, kl)
    )
    out = []
    for i, (ex_id, label) in enumerate(zip(batch["id"], batch["label"])):
        for layer in range(n_layers):
            choice = names[i][top[i][layer]]
            out.append(
                {
                    "id": ex_id,
                    "label": label,
                    "lens": lens,
                    "layer": layer,
                    "position": positions[i],
                    "gold_prob": math.exp(gold_logp[i][layer]),
                    "gold_logprob": gold_logp[i][layer],
                    "gold_rank_choices": rank_choices[i][layer],
                    "gold_rank_vocab": rank_vocab[i][layer],
                    "top_choice": choice,
                    "top_correct": choice == label,
                    "kl_to_final": kl[i][layer],
                    "n_choices": len(names[i]),
                }
            )
    return out
