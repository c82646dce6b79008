"""The normalised multiple-choice schema every stage reads.

Columns: ``id`` (str), ``question`` (str), ``choices`` (list of str, in label
order), ``label`` (gold letter, ``A``...), ``answer`` (gold choice text).
Extra columns (e.g. the synthetic dataset's ``key_facts``) pass through.
"""

from __future__ import annotations

import string
from typing import Iterable, Mapping

import pandas as pd

from ..errors import InputError

COLUMNS = ["id", "question", "choices", "label", "answer"]


def letters(n: int) -> list[str]:
    """Choice letters for ``n`` choices: ``A``, ``B``, ..."""
    return list(string.ascii_uppercase[:n])


def normalise_records(rows: Iterable[Mapping], source: str) -> pd.DataFrame:
    """Validate already-mapped rows and return the normalised frame.

    Each row needs ``id``, ``question``, ``choices`` (list of texts), ``label``
    (a letter within range). Raises :class:`InputError` naming ``source`` and the row.
    """
    out = []
    seen: dict[str, int] = {}
    for i, row in enumerate(rows, start=1):
        for key in ("id", "question", "choices", "label"):
            if row.get(key) in (None, "", []):
                raise InputError(source, i, f"missing '{key}'",
                                 f"give every row a non-empty '{key}' or drop the row")
        rid = str(row["id"])
        if rid in seen:
            raise InputError(source, i, f"duplicate id '{rid}' (first seen in row {seen[rid]})",
                             "make ids unique or remove the duplicate row")
        seen[rid] = i
        choices = [str(c) for c in row["choices"]]
        if len(choices) < 2:
            raise InputError(source, i, f"only {len(choices)} choice(s)", "give at least two choices")
        label = str(row["label"]).strip().upper()
        valid = letters(len(choices))
        if label not in valid:
            raise InputError(source, i, f"label '{row['label']}' is not one of {valid}",
                             "use the letter of the gold choice")
        rec = dict(row)
        rec.update(id=rid, question=str(row["question"]).strip(), choices=choices,
                   label=label, answer=choices[valid.index(label)])
        out.append(rec)
    if not out:
        raise InputError(source, None, "no rows", "point the config at a non-empty file")
    df = pd.DataFrame(out)
    return df[COLUMNS + [c for c in df.columns if c not in COLUMNS]]
