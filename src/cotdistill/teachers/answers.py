"""Parse the answer a rationale states ("So the answer is (c) ...", "The answer is D")."""

from __future__ import annotations

import re
from typing import Sequence

from ..data.schema import letters

_ANSWER_IS = re.compile(r"answer\s+is\s*:?\s*", re.IGNORECASE)
_PAREN_LETTER = re.compile(r"\(([A-Za-z])\)")
_BARE_LETTER = re.compile(r"([A-Z])(?![A-Za-z])")  # upper case only: "is a place" is no letter
# a letter named in a statement: "(c)" in any case, or a capital standing alone
_LETTER_MENTION = re.compile(r"\(([A-Za-z])\)|(?<![A-Za-z'])([A-Z])(?![A-Za-z'])")
_ALTERNATIVE = re.compile(r"\b(?:or|and)\b|/", re.IGNORECASE)
_CLAUSE_END = re.compile(r"[.!?;](?:\s|$)|,\s*(?:depending|because|since|as|but)\b")
# "A because ...", "C - The stapler ...", "A. Sloths ...", "(B): ...": a rationale that
# opens with its letter; not "A person ..." nor "E.g."
_LEADING_LETTER = re.compile(
    r"\s*\(?([A-Z])\)?(?=\s*[.:)]\s|\s*[-\u2013\u2014]\s|\s+because\b|\s*$)"
)


def parse_stated_answer(text: str, choices: Sequence[str]) -> str | None:
    """The choice letter the text states, or None when it states no single one.

    The last "answer is" statement decides: a letter in parentheses (any case), a bare
    capital letter, or the text of a choice. A statement naming two letters as
    alternatives ("D or E, depending on the context", "either (a) ... or (e) ...") is
    no single answer: None. Without a statement, a rationale that opens with a bare
    letter ("A because ...", "C - ...", "A. ...") states that letter. Letters outside
    the choice range, declines ("none of the above") and answers in prose are None.
    """
    if not text:
        return None
    valid = letters(len(choices))
    starts = [m.end() for m in _ANSWER_IS.finditer(text)]
    for start in reversed(starts):
        tail = text[start:]
        if _names_alternatives(tail, valid):
            return None
        m = _PAREN_LETTER.match(tail) or _BARE_LETTER.match(tail)
        if m and m.group(1).upper() in valid:
            return m.group(1).upper()
        tail_norm = _norm(tail) + " "
        hits = [
            (len(c), i)
            for i, c in enumerate(choices)  # whole words: "either" is not "e"
            if _norm(c) and tail_norm.startswith(_norm(c) + " ")
        ]
        if hits:
            return valid[max(hits)[1]]
    m = _LEADING_LETTER.match(text)
    if m and m.group(1) in valid and not _names_alternatives(text, valid):
        return m.group(1)
    return None


def _names_alternatives(statement: str, valid: str) -> bool:
    """Does the statement's first clause name two different letters joined by "or",
    "and" or "/" ("D or E", "either (a) aquarium or (e) pond", "A/B")?"""
    clause = _CLAUSE_END.split(statement, maxsplit=1)[0]
    mentions = [
        m for m in _LETTER_MENTION.finditer(clause) if (m.group(1) or m.group(2)).upper() in valid
    ]
    for a, b in zip(mentions, mentions[1:]):
        if (a.group(1) or a.group(2)).upper() != (
            b.group(1) or b.group(2)
        ).upper() and _ALTERNATIVE.search(clause[a.end() : b.start()]):
            return True
    return False


def _norm(s: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", s.lower()).strip()


# "The answer is B because ...", "So the answer is (c) bookstore.", "Therefore, the
# correct answer is: D": a statement of the answer, with what leads into it
_STATEMENT = re.compile(
    r"(?:(?:so|thus|therefore|hence)\s*,?\s+)?(?:the\s+)?(?:correct\s+|final\s+)?"
    r"answer\s+is\b",
    re.IGNORECASE,
)
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
    tail = text[m.end() :].rstrip().rstrip(".!?")
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
        because = re.search(r"\bbecause\b\s*,?\s*", out[m.end() : sentence_end], re.IGNORECASE)
        out = out[m.end() + because.end() :] if because else out[sentence_end:]
        out = out.strip()
        out = out[:1].upper() + out[1:]
    matches = list(_STATEMENT.finditer(out))
    if matches and _in_last_sentence(out, matches[-1]):
        out = _CONNECTOR.sub("", out[: matches[-1].start()]).strip()
        if out and out[-1] not in ".!?":
            out += "."
    return out


# what joins a closing statement to the reasoning before it: ", and", "; so", ","
_CONNECTOR = re.compile(
    r"(?:[,;:]?\s*\b(?:and|so|thus|therefore|hence)\b)?\s*[,;:]?\s*$", re.IGNORECASE
)
