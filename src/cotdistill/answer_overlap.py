"""Does a set of rationale words restate the answer?

Integrated gradients ranks the words that raise log p(gold letter), and real teacher
rationales mostly name the answer ("So the answer is (c) bookstore."), so a key-token
set may just be the answer again. A set *restates the answer* when it holds the gold
letter (in parentheses, any case, or as a bare capital) or a content word of the gold
choice's text. The share of sets that do is reported beside every key-token result.
"""

from __future__ import annotations

import re
from typing import Iterable, Sequence

from .data.schema import letters

# words too common to say that a set names the answer
STOPWORDS = frozenset(
    """a an the of to in on at for and or but is are was were be been it its
this that these those with by from as into than then so not no yes do does did can could will
would should may might must have has had he she they them his her their you your we our i me my
""".split()
)
_WORD = re.compile(r"[a-z0-9]+")


def content_words(text: str) -> set[str]:
    """Lower-case alphanumeric words of ``text`` that are not stopwords."""
    return {w for w in _WORD.findall(text.lower()) if w not in STOPWORDS}


def restates_answer(words: Iterable[str], label: str, choices: Sequence[str]) -> bool:
    """Whether ``words`` hold the gold letter or a content word of the gold choice."""
    gold_text = choices[letters(len(choices)).index(label)]
    gold_words = content_words(gold_text)
    for word in words:
        stripped = word.strip(".,;:!?\"'")
        if stripped.lower() in (f"({label.lower()})",) or stripped == label:
            return True
        if content_words(stripped) & gold_words:
            return True
    return False
