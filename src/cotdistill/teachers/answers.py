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


# "The answer is B because ...", "So the answer is (c) bookstore.", "Therefore, the
# correct answer is: D": a statement of the answer, with what leads into it
_STATEMENT = re.compile(r"(?:(?:so|thus|therefore|hence)\s*,?\s+)?(?:the\s+)?(?:correct\s+|final\s+)?"
                        r"answer\s+is\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")


def answer_position(text: str) -> str | None:
    """Where a rationale states its answer: 'start' (it opens with the statement, the
    answer-first style), 'end' (the statement closes its last sentence, reason first),
    'middle', or None (no "answer is" statement)."""
    text = (text or "").strip()
    matches = list(_STATEMENT.finditer(text))
    if not matches:
        return None
    if matches[0].start() == 0:
        return "start"
    return "end" if _in_last_sentence(text, matches[-1]) else "middle"


def _in_last_sentence(text: str, m: re.Match) -> bool:
    tail = text[m.end():].rstrip().rstrip(".!?")
    return not _SENTENCE_END.search(tail)


def strip_stated_answer(text: str) -> str:
    """``text`` without a statement of the answer at its start or its end.

    At the start, "The answer is B because a fridge keeps milk cold." keeps "A fridge
    keeps milk cold." (a statement with no "because" loses its whole sentence); at the
    end, "... So the answer is (c) bank." loses that sentence, and "... school, and the
    answer is (E)." loses ", and the answer is (E)". A statement in the middle stays:
    cutting it would break the reasoning around it.
    """
    out = (text or "").strip()
    m = _STATEMENT.match(out)
    if m:
        ends = [e.end() for e in _SENTENCE_END.finditer(out)]
        sentence_end = ends[0] if ends else len(out)
        because = re.search(r"\bbecause\b\s*,?\s*", out[m.end():sentence_end], re.IGNORECASE)
        out = out[m.end() + because.end():] if because else out[sentence_end:]
        out = out.strip()
        out = out[:1].upper() + out[1:]
    matches = list(_STATEMENT.finditer(out))
    if matches and _in_last_sentence(out, matches[-1]):
        out = _CONNECTOR.sub("", out[:matches[-1].start()]).strip()
        if out and out[-1] not in ".!?":
            out += "."
    return out


# what joins a closing statement to the reasoning before it: ", and", "; so", ","
_CONNECTOR = re.compile(r"(?:[,;:]?\s*\b(?:and|so|thus|therefore|hence)\b)?\s*[,;:]?\s*$",
                        re.IGNORECASE)
