"""Pair the rows of a published rationale file with a dataset's questions.

By id (the default), or by question text for files keyed by another release's ids
(QuaRel's ``QuaRel_V1_Fr_0785`` against ids made when converting it): case,
whitespace and punctuation do not count, and the choices, where the file has
them, break ties between questions that read alike. Every match reports what it
paired, what it could not, and what was ambiguous, so the coverage a run trained
on is a number in its tables, not a line in a job log.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from ..errors import InputError

MATCH_BY = ("id", "question")


@dataclass
class MatchReport:
    """How a rationale file met a dataset split (counts of rows)."""

    by: str
    dataset_rows: int
    file_rows: int
    matched: int  # dataset rows that got a rationale
    unmatched_file: int  # file rows that named no dataset row
    ambiguous: int  # dataset rows left out: several rationales, or several candidates
    repeated: int = 0  # file rows that repeat another row exactly (dropped)

    @property
    def coverage(self) -> float:
        """Share of the dataset's rows that got a rationale."""
        return self.matched / self.dataset_rows if self.dataset_rows else 0.0

    def as_dict(self) -> dict:
        """The report's counts and its coverage."""
        return {**asdict(self), "coverage": self.coverage}

    def describe(self) -> str:
        """The report in one sentence, for the log and the check's notes."""
        text = (
            f"matched by {self.by}: {self.matched} of {self.dataset_rows} dataset rows "
            f"({100 * self.coverage:.1f}%); {self.unmatched_file} of {self.file_rows} file "
            f"rows are for no question of this split"
        )
        if self.ambiguous:
            text += f"; {self.ambiguous} ambiguous"
        if self.repeated:
            text += f"; {self.repeated} exact repeats dropped"
        return text


def normalise(text) -> str:
    """Lower case, punctuation and runs of whitespace as one space."""
    return re.sub(r"[^0-9a-z]+", " ", str(text).lower()).strip()


def choices_key(choices) -> tuple[str, ...]:
    """The normalised choice texts, sorted: a list, or one string "(A) x (B) y"."""
    if isinstance(choices, str):
        choices = re.split(r"\([A-Za-z]\)", choices)
    elif choices is None or (isinstance(choices, float) and np.isnan(choices)):
        return ()
    return tuple(sorted(t for t in (normalise(c) for c in choices) if t))


def drop_repeated_ids(raw: pd.DataFrame, path: str) -> tuple[pd.DataFrame, int]:
    """``raw`` without rows that repeat an earlier row's id and rationale, and their count.
    An id repeated with another rationale is an error naming both rows."""
    text = raw["rationale"].astype(str).str.strip()
    first = {}
    keep = np.ones(len(raw), dtype=bool)
    for i, (rid, rationale) in enumerate(zip(raw["id"], text)):
        if rid not in first:
            first[rid] = i
            continue
        j = first[rid]
        if rationale != text.iloc[j]:
            raise InputError(
                path,
                _line(raw, i),
                f"id '{rid}' repeats row {_line(raw, j)} with another rationale",
                "keep one rationale per id (or match by question text with "
                "teachers.*.match: question, if the ids are not the dataset's)",
            )
        keep[i] = False
    return raw[keep], int((~keep).sum())


def match_by_id(
    data: pd.DataFrame, raw: pd.DataFrame, path: str
) -> tuple[pd.DataFrame, MatchReport]:
    """The file's rows whose id is a dataset id, and the report of the match."""
    raw, repeated = drop_repeated_ids(raw, path)
    ids = set(data["id"])
    known = raw["id"].isin(ids)
    report = MatchReport(
        "id",
        len(data),
        len(raw) + repeated,
        int(data["id"].isin(set(raw["id"])).sum()),
        int((~known).sum()),
        0,
        repeated,
    )
    return raw[known], report


def match_by_question(
    data: pd.DataFrame,
    raw: pd.DataFrame,
    path: str,
    question_column: str = "question",
    choices_column: str | None = None,
) -> tuple[pd.DataFrame, MatchReport]:
    """Rows of ``raw`` re-keyed to the dataset's ids by normalised question text (and
    choices, where the file has ``choices_column``). A dataset row that several file rows
    with different rationales name, or a file row whose question several dataset rows
    share and the choices do not tell apart, is ambiguous and left out."""
    if "question" not in raw.columns:
        raise InputError(
            path,
            None,
            f"no column '{question_column}' to match questions on "
            f"(columns: {[c for c in raw.columns if c != 'line']})",
            "set teachers.*.question_column to the file's question column",
        )
    by_question: dict[str, list[int]] = {}
    for i, q in enumerate(data["question"]):
        by_question.setdefault(normalise(q), []).append(i)
    data_choices = [choices_key(c) for c in data["choices"]]
    has_choices = choices_column is not None and "choices" in raw.columns

    claims: dict[int, list[int]] = {}  # dataset row -> file rows that name it
    unmatched_file = ambiguous_file = 0
    for k, q in enumerate(raw["question"]):
        candidates = by_question.get(normalise(q), [])
        if len(candidates) > 1 and has_choices:
            key = choices_key(raw["choices"].iloc[k])
            candidates = [i for i in candidates if data_choices[i] == key]
        if not candidates:
            unmatched_file += 1
        elif len(candidates) > 1:
            ambiguous_file += 1
        else:
            claims.setdefault(candidates[0], []).append(k)

    rows, ambiguous_data, repeated = [], 0, 0
    text = raw["rationale"].astype(str).str.strip()
    for i, ks in sorted(claims.items()):
        if len({text.iloc[k] for k in ks}) > 1:
            ambiguous_data += 1
            continue
        repeated += len(ks) - 1
        rows.append({**raw.iloc[ks[0]].to_dict(), "id": data["id"].iloc[i]})
    matched = pd.DataFrame(rows, columns=raw.columns)
    report = MatchReport(
        "question",
        len(data),
        len(raw),
        len(matched),
        unmatched_file,
        ambiguous_data + ambiguous_file,
        repeated,
    )
    return matched, report


def _line(raw: pd.DataFrame, i: int) -> int:
    return int(raw["line"].iloc[i]) if "line" in raw.columns else i + 1


def coverage_problem(
    report: MatchReport,
    min_coverage: float,
    data: pd.DataFrame,
    matched_ids,
    raw_ids,
    key: str = "teachers.*",
) -> str | None:
    """Why a match covers too little of the dataset to train on (with a fix), or None.
    No match at all is a problem whatever ``min_coverage`` says: nothing would train.
    ``key``: the config entry of the teacher's options for this dataset."""
    if report.dataset_rows and report.matched and report.coverage >= min_coverage:
        return None
    what = (
        f"covers {report.matched} of {report.dataset_rows} dataset ids "
        f"({100 * report.coverage:.1f}%"
    )
    what += (
        f" < min_coverage {100 * min_coverage:.1f}%)"
        if report.matched
        else "; a run needs at least one)"
    )
    if report.matched == 0 and report.by == "id":
        what += (
            ". No id matches, which usually means the file and the dataset use two id "
            f"schemes: file ids {list(raw_ids)[:3]}, dataset ids {data['id'].head(3).tolist()}"
        )
        fix = (
            f"match the rows by question text ({key}.match: question, with the file's "
            "question column as question_column), or give the file the dataset's ids"
        )
    else:
        missing = data.loc[~data["id"].isin(set(matched_ids)), "id"].head(5).tolist()
        what += f"; {report.describe()}; first missing ids: {missing}"
        fix = (
            f"supply rationales for the missing questions, or lower {key}.min_coverage "
            "(every condition then trains on the covered questions only)"
        )
    return f"{what}. Fix: {fix}"
