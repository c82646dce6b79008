"""The scores table every score source writes, and how conditions read it.

A score source writes ``scores.parquet`` with one row per rationale position of
a training example:

=============  ==============================================================
id             the example
position       0-based index among the example's rationale positions
token          the position's text (the rationale's characters ``start:end``)
start, end     its character span in the rationale, whitespace trimmed
word_idx       index into ``rationale.split()`` (-1: a whitespace-only token)
score          its attribution score
f_input        F(input): the target's value (per example, repeated per row)
f_baseline     F(baseline) (per example)
delta          captum's convergence delta (per example)
=============  ==============================================================

Integrated gradients writes the attributor's tokens. Known key words (the
rule-based teacher records them by construction) are just another source:
word positions scored 1 for a key word and 0 otherwise, with no F values.

Conditions work on *units* of a rationale, at one of two levels: ``word``
(whitespace words; a word's score combines its tokens' scores) or ``token``
(the attributor's tokens, whitespace-only ones dropped).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal, Sequence

import pandas as pd


Unit = Literal["word", "token"]
SCORE_COLUMNS = [
    "id",
    "position",
    "token",
    "start",
    "end",
    "word_idx",
    "score",
    "f_input",
    "f_baseline",
    "delta",
]
DEFAULT_K = 5  # key-token budget when a condition gives neither k nor fraction
WORD_REDUCE = {"sum": sum, "max": max, "mean": lambda xs: sum(xs) / len(xs)}


def word_spans(rationale: str) -> list[tuple[int, int]]:
    """Character spans of ``rationale.split()``'s words."""
    return [m.span() for m in re.finditer(r"\S+", rationale)]


@dataclass(frozen=True)
class Units:
    """A rationale cut into units (words or tokens), with their scores if known."""

    rationale: str
    spans: list[tuple[int, int]]  # character spans, in order
    scores: list[float] | None = None

    @property
    def pieces(self) -> list[str]:
        """The text of each unit, as its span in the rationale cuts it."""
        return [self.rationale[s:e] for s, e in self.spans]

    def __len__(self) -> int:
        return len(self.spans)

    def render(self, keep: Sequence[int], replace: dict[int, str] | None = None) -> str:
        """The units ``keep`` (sorted, original order) joined as text. Units that were
        apart in the rationale are separated by a space; ``replace`` swaps a unit's
        text (a placeholder), and a replaced unit always stands apart."""
        replace = replace or {}
        out, prev = [], None
        for i in sorted(keep):
            text = replace.get(i, self.pieces[i])
            if prev is not None and (
                self.spans[prev][1] < self.spans[i][0] or i in replace or prev in replace
            ):
                out.append(" ")
            out.append(text)
            prev = i
        return "".join(out)


def words_of(rationale: str) -> Units:
    """Whitespace words, without scores."""
    return Units(rationale, word_spans(rationale))


def units_from_scores(
    rationale: str, rows: pd.DataFrame, unit: Unit, word_reduce: str = "sum"
) -> Units:
    """One example's units with scores, from its rows of a scores table."""
    rows = rows.sort_values("position")
    if unit == "token":
        keep = rows[rows["end"] > rows["start"]]
        return Units(
            rationale,
            list(zip(keep["start"].astype(int), keep["end"].astype(int))),
            [float(s) for s in keep["score"]],
        )
    reduce = WORD_REDUCE[word_reduce]
    by_word: dict[int, list[float]] = {}
    for w, s in zip(rows["word_idx"], rows["score"]):
        if w >= 0:
            by_word.setdefault(int(w), []).append(float(s))
    spans = word_spans(rationale)
    return Units(
        rationale, spans, [reduce(by_word[w]) if w in by_word else 0.0 for w in range(len(spans))]
    )


def budget(n_units: int, k: int | None = None, fraction: float | None = None) -> int:
    """How many units a selection keeps: ``k``, or ``fraction`` of the units rounded up
    (at least one), or :data:`DEFAULT_K`; never more than there are."""
    if n_units == 0:
        return 0
    if k is None and fraction is None:
        k = DEFAULT_K
    n = int(k) if k is not None else math.ceil(fraction * n_units)
    return max(1, min(n, n_units))


def top_units(scores: Sequence[float], n: int, rank_by: str = "score") -> list[int]:
    """Indices of the ``n`` highest-scoring units (ties: earlier first), in original order.

    ``rank_by='score'`` keeps what most raised the gold label's log-probability;
    ``'abs'`` keeps the largest effects of either sign.
    """
    key = (lambda i: (-scores[i], i)) if rank_by == "score" else (lambda i: (-abs(scores[i]), i))
    return sorted(sorted(range(len(scores)), key=key)[:n])


def known_key_word_scores(rationales: pd.DataFrame) -> pd.DataFrame:
    """Scores table of known key words: each word 1 if it is a key word, else 0."""
    if "key_word_idx" not in rationales.columns:
        raise ValueError(
            "the rationales have no 'key_word_idx' column: only a teacher that "
            "records key words (rule_based) can be a 'known' score source"
        )
    rows = []
    for rid, text, keys in zip(
        rationales["id"], rationales["rationale"], rationales["key_word_idx"]
    ):
        keys = set(int(k) for k in keys)
        for w, (s, e) in enumerate(word_spans(text)):
            rows.append(
                {
                    "id": rid,
                    "position": w,
                    "token": text[s:e],
                    "start": s,
                    "end": e,
                    "word_idx": w,
                    "score": float(w in keys),
                    "f_input": math.nan,
                    "f_baseline": math.nan,
                    "delta": math.nan,
                }
            )
    return pd.DataFrame(rows, columns=SCORE_COLUMNS)


def scores_by_id(table: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """A scores table split into one frame per rationale id, in table order."""
    return {rid: g for rid, g in table.groupby("id", sort=False)}
