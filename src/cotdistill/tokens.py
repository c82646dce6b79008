"""Token-level facts that evaluation, the lens and the teacher all rely on."""

from __future__ import annotations

from typing import Sequence

from .formats import answer
from .data.schema import letters


def common_prefix_length(seqs: Sequence[Sequence[int]]) -> int:
    """How many leading tokens every sequence shares."""
    if not seqs:
        return 0
    n, first = min(len(s) for s in seqs), seqs[0]
    for i in range(n):
        if any(s[i] != first[i] for s in seqs):
            return i
    return n


def answer_parts(tok, n_choices: int) -> tuple[list[int], list[list[int]]]:
    """(tokens every ``Answer: X`` shares, each letter's own tokens after them)."""
    seqs = [tok(answer(x), add_special_tokens=False)["input_ids"] for x in letters(n_choices)]
    n = common_prefix_length(seqs)
    return seqs[0][:n], [s[n:] for s in seqs]
