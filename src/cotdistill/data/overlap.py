"""Test questions that also appear in the training split (leakage)."""

from __future__ import annotations

import re

import pandas as pd

_PUNCT = re.compile(r"[^\w\s]")


def question_key(question: str, choices) -> str:
    """The question and its set of choices, case, punctuation and spacing folded.

    Choices are part of the key because real splits reuse a stem with other
    choices: 23 OpenBookQA test stems occur in train, 14 with the same choices.
    """

    def fold(text: str) -> str:
        return " ".join(_PUNCT.sub(" ", str(text).lower()).split())

    return fold(question) + " || " + " | ".join(sorted(fold(c) for c in choices))


def overlapping(train: pd.DataFrame, test: pd.DataFrame) -> pd.DataFrame:
    """Test rows whose id, or whose question with its choices, is also in train;
    column ``why`` says which."""
    ids = set(train["id"].astype(str))
    keys = set(question_key(q, c) for q, c in zip(train["question"], train["choices"]))
    same_id = test["id"].astype(str).isin(ids)
    same_text = pd.Series(
        [question_key(q, c) in keys for q, c in zip(test["question"], test["choices"])],
        index=test.index,
    )
    out = test[same_id | same_text].copy()
    out["why"] = ["same id" if i else "same question and choices" for i in same_id[out.index]]
    return out


LEAK_FIX = "remove them from one split, or set {key}: true to keep them (they are counted)"


def leak_problem(leaked: pd.DataFrame, test_source: str, train_source: str) -> str:
    """How the input check and the conditions job word a leak."""
    first = leaked.iloc[0]
    return (
        f"{len(leaked)} test question(s) of {test_source} also appear in {train_source} "
        f"(first: id {first['id']}, {first['why']})"
    )
