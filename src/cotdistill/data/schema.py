"""The normalised multiple-choice schema every stage reads.

Columns: ``id`` (str), ``question`` (str), ``choices`` (list of str, in label
order), ``label`` (gold letter, ``A``...), ``answer`` (gold choice text).
Extra columns (e.g. the synthetic dataset's ``key_facts``) pass through.
"""

from __future__ import annotations

import string
from typing import Iterable, Mapping, Sequence

import pandas as pd

from ..errors import InputError

COLUMNS = ["id", "question", "choices", "label", "answer"]


def letters(n: int) -> list[str]:
    """Choice letters for ``n`` choices: ``A``, ``B``, ..."""
    return list(string.ascii_uppercase[:n])


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def normalise_records(
    rows: Iterable[Mapping], source: str, lines: Sequence[int] | None = None
) -> pd.DataFrame:
    """Validate already-mapped rows and return the normalised frame.

    Each row needs ``id``, ``question`` (not blank), ``choices`` (at least two
    texts, none blank) and ``label`` (a letter within range).
    Raises :class:`InputError` naming ``source`` and the row: ``lines[k]`` for
    the k-th row when given (a file's line numbers), else its position.
    """
    out = []
    seen: dict[str, int] = {}
    for k, row in enumerate(rows):
        i = lines[k] if lines is not None else k + 1
        for key in ("id", "question", "choices", "label"):
            if _blank(row.get(key)):
                raise InputError(
                    source,
                    i,
                    f"missing or blank '{key}'",
                    f"give every row a non-empty '{key}' or drop the row",
                )
        rid = str(row["id"])
        if rid in seen:
            raise InputError(
                source,
                i,
                f"duplicate id '{rid}' (first seen in row {seen[rid]})",
                "make ids unique or remove the duplicate row",
            )
        seen[rid] = i
        choices = [str(c) for c in row["choices"]]
        if len(choices) < 2:
            raise InputError(
                source, i, f"only {len(choices)} choice(s)", "give at least two choices"
            )
        valid = letters(len(choices))
        for letter, text in zip(valid, choices):
            if not text.strip():
                raise InputError(
                    source,
                    i,
                    f"choice {letter} is blank",
                    "give every choice a text or drop the row",
                )
        label = str(row["label"]).strip().upper()
        if label not in valid:
            raise InputError(
                source,
                i,
                f"label '{row['label']}' is not one of {valid}",
                "use the letter of the gold choice",
            )
        rec = dict(row)
        rec.update(
            id=rid,
            question=str(row["question"]).strip(),
            choices=choices,
            label=label,
            answer=choices[valid.index(label)],
        )
        out.append(rec)
    if not out:
        raise InputError(source, None, "no rows", "point the config at a non-empty file")
    df = pd.DataFrame(out)
    return df[COLUMNS + [c for c in df.columns if c not in COLUMNS]]


def repeated_choices(choices: Sequence[str]) -> tuple[str, str] | None:
    """The letters of the first two choices with the same text (case and spacing
    folded), or None. Real releases have them: 122 CommonsenseQA train rows."""
    folded = [" ".join(c.lower().split()) for c in choices]
    for b, text in enumerate(folded):
        if text in folded[:b]:
            return letters(len(choices))[folded.index(text)], letters(len(choices))[b]
    return None
