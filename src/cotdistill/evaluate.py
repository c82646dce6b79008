"""Evaluate a student on test prompts, keeping every prediction.

Two accuracies per run:

* generation: greedy decoding, then the label is parsed from the
  ``Answer: X`` statement the student writes (rationale-first students write
  their rationale before it, so they get a larger token budget);
* choice scoring: the log-likelihood of ``Answer: X`` for every choice letter,
  after the prompt and, for rationale-first students, after the rationale they
  generated; the highest wins. This isolates what the student knows from
  whether it formats its answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

import pandas as pd
import torch
from tqdm.auto import tqdm

from .formats import answer
from .data.schema import letters
from .tokens import answer_parts
from .train import collate

_ANSWER = re.compile(r"Answer\s*:\s*\(?\s*([A-Z])\b")


@dataclass
class EvalConfig:
    """Evaluation options (``evaluation:``); the defaults are the schema's."""

    batch_size: int = 64
    max_new_tokens_label: int = 6  # enough for "Answer: X" and an EOS
    # rationale-first conditions write reasoning first; "auto": the longest training target
    # of the run (tokenised) plus a margin, so a student that learnt to write as long as
    # its teacher is not cut off before its "Answer:" (``rationale_budget``)
    max_new_tokens_rationale: int | str = "auto"
    device: str = "auto"  # "auto" (a GPU when there is one), "cpu", "cuda"
    precision: str = "fp32"  # "fp32", "bf16" (autocast) or "auto" (bf16 where native)

    @classmethod
    def from_dict(cls, d: dict) -> "EvalConfig":
        """The evaluation options of a config section; other keys are ignored."""
        return cls(**{k: v for k, v in (d or {}).items() if k in cls.__dataclass_fields__})


BUDGET_MARGIN = 0.1  # the rationale budget's margin over the longest target (at least 8 tokens)


def rationale_budget(tok, targets: Sequence[str]) -> int:
    """New tokens a rationale-first student may write: its longest training target
    (``Reason: ... Answer: y``) tokenised, plus 10% (at least 8 tokens)."""
    longest = max(
        (len(ids) for ids in tok(list(targets), add_special_tokens=False)["input_ids"]), default=0
    )
    return longest + max(8, int(BUDGET_MARGIN * longest + 0.5))


def parse_label(text: str, n_choices: int) -> str | None:
    """The first ``Answer: X`` label in generated text, if X is a valid choice."""
    m = _ANSWER.search(text)
    return m.group(1) if m and m.group(1) in letters(n_choices) else None


def reasoning_prefix(generated: str) -> str:
    """What a rationale-first student wrote before its answer mark."""
    cut = re.search(r"Answer\s*:", generated)
    return (generated[: cut.start()] if cut else generated).rstrip()


@torch.no_grad()
def generate(
    model, tok, prompts: Sequence[str], max_new_tokens: int, batch_size: int, progress: bool = True
) -> list[str]:
    """Greedy continuations of ``prompts`` (left-padded batches)."""
    device = next(model.parameters()).device
    side = tok.padding_side
    tok.padding_side = "left"
    out: list[str] = []
    try:
        for start in tqdm(
            range(0, len(prompts), batch_size), desc="generate", disable=not progress
        ):
            batch = tok(
                list(prompts[start : start + batch_size]),
                return_tensors="pt",
                padding=True,
                add_special_tokens=False,
            ).to(device)
            seq = model.generate(
                **batch,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                pad_token_id=tok.pad_token_id,
                eos_token_id=tok.eos_token_id,
            )
            new = seq[:, batch["input_ids"].shape[1] :]
            out += tok.batch_decode(new, skip_special_tokens=True)
    finally:
        tok.padding_side = side
    return out


@torch.no_grad()
def continuation_logprobs(
    model, tok, contexts: Sequence[str], continuations: Sequence[str], batch_size: int
) -> list[float]:
    """Sum of log p(continuation tokens | context) for each (context, continuation) pair."""
    device = next(model.parameters()).device
    ctx_ids = tok(list(contexts), add_special_tokens=False)["input_ids"]
    cont_ids = tok(list(continuations), add_special_tokens=False)["input_ids"]
    scores: list[float] = []
    for start in range(0, len(ctx_ids), batch_size):
        seqs = [
            c + k
            for c, k in zip(
                ctx_ids[start : start + batch_size], cont_ids[start : start + batch_size]
            )
        ]
        ids, mask, _ = collate(seqs, seqs, tok.pad_token_id)  # (rows, longest), right-padded
        logp = torch.log_softmax(
            model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits.float(), dim=-1
        ).cpu()  # (rows, longest, vocab)
        for i, (c, k) in enumerate(
            zip(ctx_ids[start : start + batch_size], cont_ids[start : start + batch_size])
        ):
            pos = torch.arange(len(c) - 1, len(c) + len(k) - 1)  # logits at t predict token t+1
            scores.append(float(logp[i, pos, torch.tensor(k)].sum()))
    return scores


def choice_logprobs_per_letter(
    model, tok, contexts: Sequence[str], n_choices: Sequence[int], batch_size: int
) -> list[list[float]]:
    """Per context, log p("Answer: X") for every letter from one pass per (context, letter):
    the reference that ``choice_logprobs`` must equal, and its path for letters of
    several tokens."""
    flat = continuation_logprobs(
        model,
        tok,
        [c for c, n in zip(contexts, n_choices) for _ in range(n)],
        [answer(x) for n in n_choices for x in letters(n)],
        batch_size,
    )
    out, at = [], 0
    for n in n_choices:
        out.append(flat[at : at + n])
        at += n
    return out


def letter_tokens(tok, n: int) -> tuple[list[int], list[int]] | None:
    """(tokens every "Answer: X" shares, each letter's one token after them), or None
    when some letter takes several tokens."""
    shared, own = answer_parts(tok, n)
    if any(len(o) != 1 for o in own):
        return None
    return shared, [o[0] for o in own]


def left_pad(
    seqs: Sequence[Sequence[int]], pad_id: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(ids, mask, position ids), each (rows, longest), of left-padded rows; positions
    count real tokens only."""
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for r, s in enumerate(seqs):
        ids[r, width - len(s) :] = torch.tensor(s, dtype=torch.long)
        mask[r, width - len(s) :] = 1
    return ids, mask, (mask.cumsum(-1) - 1).clamp(min=0)


def _letter_scores(logits: torch.Tensor, prefix: list[int], letter_ids: list[int]) -> torch.Tensor:
    """(rows, letters) log p(prefix + letter) from the logits of the positions that predict
    each prefix token and then the letter: (rows, len(prefix) + 1, vocab)."""
    logp = torch.log_softmax(logits.float(), dim=-1).cpu()
    rows = logp.shape[0]
    shared = (
        logp[:, :-1]
        .gather(-1, torch.tensor(prefix, dtype=torch.long).expand(rows, -1).unsqueeze(-1))
        .squeeze(-1)
        .sum(-1)
        if prefix
        else torch.zeros(rows)
    )
    return logp[:, -1, letter_ids] + shared.unsqueeze(-1)


@torch.no_grad()
def choice_logprobs(
    model, tok, contexts: Sequence[str], n_choices: Sequence[int], batch_size: int
) -> list[list[float]]:
    """Per context, log p("Answer: X" | context) for every choice letter X.

    Every letter's continuation shares the tokens of "Answer:"; when each
    letter adds exactly one token after them, one forward pass over context +
    shared tokens scores all letters: the shared tokens' log-probabilities plus
    each letter's at the last position. Batches group contexts of similar
    length and are left-padded (with position ids from the mask) so that every
    row's needed positions are the last few, and only those rows of the
    vocabulary softmax are computed. Otherwise the scores come from one pass per
    (context, letter) (``choice_logprobs_per_letter``).
    """
    device = next(model.parameters()).device
    out: list[list[float] | None] = [None] * len(contexts)
    by_n: dict[int, list[int]] = {}
    for i, n in enumerate(n_choices):
        by_n.setdefault(n, []).append(i)
    ctx_ids = tok(list(contexts), add_special_tokens=False)["input_ids"]
    for n, idx in by_n.items():
        split = letter_tokens(tok, n)
        if split is None:  # a letter of several tokens: one pass per letter
            per_letter = choice_logprobs_per_letter(
                model, tok, [contexts[i] for i in idx], [n] * len(idx), batch_size
            )
            for i, scores in zip(idx, per_letter):
                out[i] = scores
            continue
        prefix, letter_ids = split
        idx = sorted(idx, key=lambda i: len(ctx_ids[i]))  # similar lengths: little padding
        for start in range(0, len(idx), batch_size):
            chunk = idx[start : start + batch_size]
            ids, mask, positions = left_pad([ctx_ids[i] + prefix for i in chunk], tok.pad_token_id)
            logits = model(
                input_ids=ids.to(device),
                attention_mask=mask.to(device),
                position_ids=positions.to(device),
                logits_to_keep=len(prefix) + 1,
            ).logits
            scores = _letter_scores(logits, prefix, letter_ids)
            for r, i in enumerate(chunk):
                out[i] = [float(x) for x in scores[r]]
    return out  # type: ignore[return-value]


@torch.no_grad()
def generate_and_score(
    model,
    tok,
    prompts: Sequence[str],
    n_choices: Sequence[int],
    max_new_tokens: int,
    batch_size: int,
    progress: bool = True,
):
    """Greedy continuations and choice scores of label-first prompts from one prefill.

    Each batch runs its prompts but the last token once, keeping the key/value
    cache. A copy of it scores the letters (the last prompt token, then the
    shared "Answer:" tokens: a few positions per row), and generation continues
    from it, so the prompt is not run twice. Returns (texts, scores), or None
    when some letter takes several tokens (then score with ``choice_logprobs``).
    """
    import copy

    splits = {n: letter_tokens(tok, n) for n in set(n_choices)}
    if any(v is None for v in splits.values()):
        return None
    device = next(model.parameters()).device
    ids_all = tok(list(prompts), add_special_tokens=False)["input_ids"]
    if min(len(x) for x in ids_all) < 2:
        return None
    order = sorted(range(len(prompts)), key=lambda i: (n_choices[i], len(ids_all[i])))
    texts: list[str] = [""] * len(prompts)
    scores: list[list[float]] = [[] for _ in prompts]
    batches = [order[s : s + batch_size] for s in range(0, len(order), batch_size)]
    for chunk in tqdm(batches, desc="generate+score", disable=not progress):
        for n in sorted({n_choices[i] for i in chunk}):
            rows = [i for i in chunk if n_choices[i] == n]
            prefix, letter_ids = splits[n]
            ids, mask, positions = (
                t.to(device) for t in left_pad([ids_all[i] for i in rows], tok.pad_token_id)
            )
            cache = model(
                input_ids=ids[:, :-1],
                attention_mask=mask[:, :-1],  # the cache only:
                position_ids=positions[:, :-1],
                use_cache=True,  # one logits row
                logits_to_keep=1,
            ).past_key_values
            tail = torch.cat(
                [
                    ids[:, -1:],
                    torch.tensor([prefix], dtype=torch.long, device=device).expand(len(rows), -1),
                ],
                dim=1,
            )
            tail_mask = torch.cat([mask, torch.ones_like(tail[:, 1:])], dim=1)
            tail_pos = positions[:, -1:] + torch.arange(tail.shape[1], device=device)
            logits = model(
                input_ids=tail,
                attention_mask=tail_mask,
                position_ids=tail_pos,
                past_key_values=copy.deepcopy(cache),
            ).logits
            for i, row in zip(rows, _letter_scores(logits, prefix, letter_ids).tolist()):
                scores[i] = row
            seq = model.generate(
                input_ids=ids,
                attention_mask=mask,
                past_key_values=cache,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                pad_token_id=tok.pad_token_id,
                eos_token_id=tok.eos_token_id,
            )
            for i, text in zip(
                rows, tok.batch_decode(seq[:, ids.shape[1] :], skip_special_tokens=True)
            ):
                texts[i] = text
    return texts, scores


def evaluate(
    model, tok, test: pd.DataFrame, rationale_first: bool, cfg: EvalConfig, progress: bool = True
) -> pd.DataFrame:
    """Per-example predictions: generation and choice-scoring labels and correctness."""
    model.eval()
    prompts = list(test["prompt"])
    n_choices = [len(c) for c in test["choices"]]
    both = (
        None
        if rationale_first
        else generate_and_score(
            model, tok, prompts, n_choices, cfg.max_new_tokens_label, cfg.batch_size, progress
        )
    )
    if both is not None:
        gens, per_example = both
    else:
        budget = cfg.max_new_tokens_rationale if rationale_first else cfg.max_new_tokens_label
        if not isinstance(budget, int):
            raise ValueError(
                "max_new_tokens_rationale is 'auto': resolve it from the training "
                "targets first (rationale_budget)"
            )
        gens = generate(model, tok, prompts, budget, cfg.batch_size, progress)
        contexts = [
            p + (reasoning_prefix(g) + "\n" if rationale_first else "")
            for p, g in zip(prompts, gens)
        ]
        per_example = choice_logprobs(model, tok, contexts, n_choices, cfg.batch_size)
    gen_pred = [parse_label(g, n) for g, n in zip(gens, n_choices)]
    choice_pred = [letters(len(s))[max(range(len(s)), key=s.__getitem__)] for s in per_example]
    gold = list(test["label"])
    return pd.DataFrame(
        {
            "id": test["id"],
            "label": gold,
            "generation": gens,
            "gen_pred": gen_pred,
            "gen_parsed": [p is not None for p in gen_pred],
            "gen_correct": [p == y for p, y in zip(gen_pred, gold)],
            "choice_logprobs": per_example,
            "choice_pred": choice_pred,
            "choice_correct": [p == y for p, y in zip(choice_pred, gold)],
        }
    )


def metrics(pred: pd.DataFrame) -> dict:
    """Summary numbers, computed from the prediction rows alone."""
    return {
        "n": int(len(pred)),
        "gen_accuracy": float(pred["gen_correct"].mean()),
        "choice_accuracy": float(pred["choice_correct"].mean()),
        "gen_parse_rate": float(pred["gen_parsed"].mean()),
    }
