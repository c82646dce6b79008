"""Who attributes, with which baseline, over which examples: IG end to end.

An attributor is a causal LM with its tokenizer: a trained run (by default the
``cot_before`` student of the same teacher and dataset), a generating teacher's
own model, or any Hugging Face id, local folder or ``package:`` model.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Mapping

import pandas as pd

from ..formats import student_prompt
from ..errors import ConfigError
from .ig import Method, integrated_gradients
from .layout import lay_out
from .scores import SCORE_COLUMNS

log = logging.getLogger(__name__)

SPECIAL_BASELINES = ("pad", "eos", "unk", "bos")


@dataclass
class IGConfig:
    """Options of an ``integrated_gradients`` attribution entry (defaults live here)."""

    n_steps: int = 32
    internal_batch_size: int = 256  # rows (examples x steps) per forward-backward pass
    integration: Method = "gausslegendre"
    baseline: str = "auto"  # auto, pad, eos, unk, bos, or a literal one-token string
    dtype: str = "float32"  # gradients in full precision unless asked otherwise
    device: str = "auto"

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "IGConfig":
        """The options of a config entry; keys that are not options are ignored."""
        return cls(**{k: v for k, v in (d or {}).items() if k in cls.__dataclass_fields__})


def resolve_baseline(tok, choice: str = "auto") -> tuple[int, str]:
    """(token id, token text) of the baseline token, chosen on purpose.

    ``auto``: the tokenizer's own padding token when it has a dedicated one (a
    token the model reads as "nothing here"), else its end-of-sequence token.
    Never whatever happens to have id 0.
    """

    def special(name: str) -> int | None:
        return getattr(tok, f"{name}_token_id", None)

    if choice == "auto":
        pad, eos = special("pad"), special("eos")
        dedicated_pad = pad is not None and pad not in (eos, special("bos"), special("unk"))
        choice = "pad" if dedicated_pad else "eos"
    if choice in SPECIAL_BASELINES:
        tid = special(choice)
        if tid is None:
            raise ConfigError(
                "attribution.*.baseline",
                f"the tokenizer has no {choice} token",
                f"choose another of {SPECIAL_BASELINES} or a one-token string",
            )
        return tid, tok.convert_ids_to_tokens(tid)
    ids = tok(choice, add_special_tokens=False)["input_ids"]
    if len(ids) != 1:
        raise ConfigError(
            "attribution.*.baseline",
            f"'{choice}' is {len(ids)} tokens for this tokenizer, not one",
            "choose a string that is a single token",
        )
    return ids[0], choice


def ig_scores(
    model, tok, examples: pd.DataFrame, cfg: IGConfig, progress: bool = True
) -> tuple[pd.DataFrame, dict]:
    """Scores table (:data:`~cotdistill.attribution.scores.SCORE_COLUMNS`) for ``examples``
    (``id, question, choices, label, rationale``), and a summary for the log."""
    baseline_id, baseline_text = resolve_baseline(tok, cfg.baseline)
    layouts = [
        lay_out(tok, r.id, student_prompt(r.question, list(r.choices)), r.rationale, r.label)
        for r in examples.itertuples(index=False)
    ]
    log.info(
        "integrated gradients: %d examples, %d steps (%s), baseline token %r (id %d)",
        len(layouts),
        cfg.n_steps,
        cfg.integration,
        baseline_text,
        baseline_id,
    )
    results = integrated_gradients(
        model,
        layouts,
        baseline_id,
        tok.pad_token_id,
        cfg.n_steps,
        cfg.internal_batch_size,
        cfg.integration,
        progress,
    )
    rows = []
    for lay, res, rationale in zip(layouts, results, examples["rationale"]):
        for i, ((s, e), w, score) in enumerate(zip(lay.spans, lay.word_idx, res.scores)):
            rows.append(
                {
                    "id": lay.id,
                    "position": i,
                    "token": rationale[s:e],
                    "start": s,
                    "end": e,
                    "word_idx": w,
                    "score": score,
                    "f_input": res.f_input,
                    "f_baseline": res.f_baseline,
                    "delta": res.delta,
                }
            )
    table = pd.DataFrame(rows, columns=SCORE_COLUMNS)
    gaps = [abs(r.f_input - r.f_baseline) for r in results]
    rel = [abs(r.delta) / g for r, g in zip(results, gaps) if g > 1e-6]
    summary = {
        "baseline_token": baseline_text,
        "baseline_id": int(baseline_id),
        "examples": len(layouts),
        "tokens_scored": len(table),
        "median_rel_delta": float(pd.Series(rel).median()) if rel else float("nan"),
    }
    return table, summary
