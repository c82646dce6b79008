"""Parse the answer a rationale states ("So the answer is (c) ...", "The answer is D")."""

from __future__ import annotations

import re
from typing import Sequence

from ..data.schema import letters

_ANSWER_IS = re.compile(r"answer\s+is\s*:?\s*", re.IGNORECASE)
_PAREN_LETTER = re.compile(r"\(([A-Za-z])\)")
_BARE_LETTER = re.compile(r"([A-Z])(?![A-Za-z])")  # upper case only: "is a place" is no letter


def parse_stated_answer(text: str, choices: Sequence[str]) -> str | None:
    """The choice letter the text's last "answer is" statement names, or None.

    Accepts a letter in parentheses (any case), a bare capital letter, or the
    text of a choice. Letters outside the choice range count as unparsed.
    """
    if not text:
        return None
    valid = letters(len(choices))
    starts = [m.end() for m in _ANSWER_IS.finditer(text)]
    for start in reversed(starts):
        tail = text[start:]
        m = _PAREN_LETTER.match(tail) or _BARE_LETTER.match(tail)
        if m and m.group(1).upper() in valid:
            return m.group(1).upper()
        tail_norm = _norm(tail) + " "
        hits = [(len(c), i) for i, c in enumerate(choices)  # whole words: "either" is not "e"
                if _norm(c) and tail_norm.startswith(_norm(c) + " ")]
        if hits:
            return valid[max(hits)[1]]
    return None


def _norm(s: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", s.lower()).strip()
