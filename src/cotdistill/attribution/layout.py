"""Where the rationale and the label sit in an attributor's token sequence.

Attribution reads one training example laid out as ``cot_before`` lays it out:
``prompt + "Reason: <rationale>\\nAnswer: <label>"``. Prompt and target are
tokenised separately, exactly as training does (``train.encode_pairs``), with no
special tokens: a tokenizer with a BOS token does not get one here because the
students never saw one during training either.

Character offsets (fast tokenizers only) map every target token to the
rationale, to the label, or to neither. That works for word-level, BPE and
SentencePiece tokenizers alike, and for labels that span several tokens.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..formats import REASON_MARK, before
from ..errors import ConfigError
from .scores import word_spans


@dataclass(frozen=True)
class Layout:
    """One example's token ids and the roles of its positions.

    ``rationale_pos[i]`` is a position in ``ids``; ``spans[i]`` is that token's
    (start, end) character span inside the rationale, whitespace trimmed (empty
    for a whitespace-only token); ``word_idx[i]`` indexes ``rationale.split()``
    (-1 for whitespace-only tokens). ``label_pos`` are the label's positions.
    """

    id: str
    ids: list[int]
    rationale_pos: list[int]
    spans: list[tuple[int, int]]
    word_idx: list[int]
    label_pos: list[int]

    def __post_init__(self) -> None:
        if not self.label_pos:
            raise ValueError(f"example {self.id}: the label maps to no token")
        if self.label_pos[0] == 0:
            raise ValueError(f"example {self.id}: the label cannot be the first token")


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def lay_out(tok, example_id: str, prompt: str, rationale: str, label: str) -> Layout:
    """The :class:`Layout` of one example for tokenizer ``tok``."""
    if not getattr(tok, "is_fast", False):
        raise ConfigError(
            "attribution.*.model",
            "the attributor's tokenizer is not a fast tokenizer, so token offsets are unavailable",
            "use a model that ships a tokenizer.json (a fast tokenizer)",
        )
    target = before(label, rationale)
    r_start = len(REASON_MARK) + 1
    r_end = r_start + len(rationale)
    l_start = len(target) - len(label)
    p_ids = tok(prompt, add_special_tokens=False)["input_ids"]
    enc = tok(target, add_special_tokens=False, return_offsets_mapping=True)
    words = word_spans(rationale)
    rationale_pos, spans, word_idx, label_pos = [], [], [], []
    for j, (s, e) in enumerate(enc["offset_mapping"]):
        pos = len(p_ids) + j
        if s < r_end and e > r_start:  # overlaps the rationale
            s, e = _trim(rationale, max(s, r_start) - r_start, min(e, r_end) - r_start)
            rationale_pos.append(pos)
            spans.append((s, e))
            word_idx.append(
                next((w for w, (ws, we) in enumerate(words) if s < we and e > ws), -1)
                if e > s
                else -1
            )
        elif e > l_start:
            label_pos.append(pos)
    return Layout(
        example_id, list(p_ids) + list(enc["input_ids"]), rationale_pos, spans, word_idx, label_pos
    )
