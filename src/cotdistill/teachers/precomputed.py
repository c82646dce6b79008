"""Import published rationales from a JSONL, CSV or Parquet file per split."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from ..errors import ConfigError, InputError
from ..tables import file_sha256
from .base import Teacher, register_backend
from .matching import MATCH_BY, MatchReport, coverage_problem, match_by_id, match_by_question

log = logging.getLogger(__name__)


def read_rationale_file(
    path: str | Path,
    id_column: str | None,
    rationale_column: str,
    question_column: str | None = None,
    choices_column: str | None = None,
) -> pd.DataFrame:
    """The file's rows as ``id``, ``rationale`` (and ``question``, ``choices`` where asked)
    and ``line``, the row's line in the file (its row number for JSON and Parquet).
    ``id_column`` None: the file needs no ids (rows matched by question text)."""
    path = Path(path)
    if not path.exists():
        raise InputError(str(path), None, "rationale file not found", "check teachers.*.files")
    suffix = path.suffix.lower()
    lines = None  # the file line of each row, where the format has lines
    if suffix == ".jsonl":  # lines named as an editor counts them, UTF-8 checked
        from ..data.loaders import read_jsonl

        rows = read_jsonl(path)
        df = pd.DataFrame([row for _, row in rows])
        lines = [i for i, _ in rows]
    elif suffix == ".json":
        df = pd.read_json(path, dtype=False)
    elif suffix == ".csv":
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        lines = list(range(2, len(df) + 2))  # line 1 is the header
    elif suffix == ".parquet":
        df = pd.read_parquet(path)
    else:
        raise InputError(
            str(path), None, f"unknown file type '{suffix}'", "use .jsonl, .csv or .parquet"
        )
    wanted = {
        "id": (id_column, "id_column"),
        "rationale": (rationale_column, "rationale_column"),
        "question": (question_column, "question_column"),
        "choices": (choices_column, "choices_column"),
    }
    for col, key in wanted.values():
        if col is not None and col not in df.columns:
            raise InputError(
                str(path),
                None,
                f"no column '{col}' (columns: {list(df.columns)})",
                f"set teachers.*.{key} to the right column name",
            )
    df = df.rename(columns={col: name for name, (col, _) in wanted.items() if col is not None})
    df = df[[name for name, (col, _) in wanted.items() if col is not None]].copy()
    df["id"] = (
        df["id"].astype(str) if id_column is not None else [f"row{i}" for i in range(len(df))]
    )
    df["line"] = lines if lines else range(1, len(df) + 1)
    bad = df["rationale"].isna() | (df["rationale"].astype(str).str.strip() == "")
    if bad.any():
        k = int(bad.to_numpy().nonzero()[0][0])
        raise InputError(
            str(path),
            int(df["line"].iloc[k]),
            "empty rationale",
            "drop rows without a rationale or fill them in",
        )
    return df.reset_index(drop=True)


@register_backend("precomputed")
class PrecomputedTeacher(Teacher):
    """``files: {split: path}``; ``id_column``/``rationale_column`` name the columns;
    fails when fewer than ``min_coverage`` of the dataset's questions have a rationale.

    ``match``: ``id`` (the default) pairs rows by id; ``question`` pairs them by
    normalised question text (``question_column``; ``choices_column``, if the file has
    one, breaks ties), for files keyed by another release's ids.

    ``share_identical_questions``: a dataset id without a rationale borrows the
    rationale of another id whose question and choices are identical. Real
    releases need it: OpenBookQA train repeats 5 questions under two ids each,
    and a rationale release matched on question text gives both rationales one id.
    """

    def __init__(
        self,
        files: dict,
        id_column: str = "id",
        rationale_column: str = "rationale",
        min_coverage: float = 0.95,
        share_identical_questions: bool = False,
        match: str = "id",
        question_column: str = "question",
        choices_column: str | None = None,
    ):
        super().__init__(
            files=files,
            id_column=id_column,
            rationale_column=rationale_column,
            min_coverage=min_coverage,
            share_identical_questions=share_identical_questions,
            match=match,
            question_column=question_column,
            choices_column=choices_column,
        )
        if match not in MATCH_BY:
            raise ConfigError(
                "teachers.*.match", f"unknown value '{match}'", f"use one of {list(MATCH_BY)}"
            )
        self.files, self.min_coverage = dict(files), float(min_coverage)
        self.id_column, self.rationale_column = id_column, rationale_column
        self.match, self.question_column, self.choices_column = (
            match,
            question_column,
            choices_column,
        )
        self.share_identical_questions = bool(share_identical_questions)
        self.report: MatchReport | None = None

    @classmethod
    def option_problems(cls, options):
        """The base checks and a known ``match`` value."""
        problems = super().option_problems(options)
        if options.get("match", "id") not in MATCH_BY:
            problems.append(
                ("match", f"unknown value '{options['match']}'", f"use one of {list(MATCH_BY)}")
            )
        return problems

    def read(self, split: str) -> pd.DataFrame:
        """The split's file, with the columns its ``match`` needs."""
        if split not in self.files:
            raise ConfigError(
                f"teachers.*.files.{split}",
                "no rationale file for this split",
                f"add 'files: {{{split}: PATH}}' to the precomputed teacher",
            )
        by_question = self.match == "question"
        return read_rationale_file(
            self.files[split],
            None if by_question else self.id_column,
            self.rationale_column,
            self.question_column if by_question else None,
            self.choices_column if by_question else None,
        )

    def matched(self, data: pd.DataFrame, split: str) -> tuple[pd.DataFrame, MatchReport, list]:
        """(rationale rows keyed by the dataset's ids, the match report, the file's ids)."""
        path = str(self.files.get(split))
        raw = self.read(split)
        if self.match == "question":
            rows, report = match_by_question(
                data, raw, path, self.question_column, self.choices_column
            )
        else:
            rows, report = match_by_id(data, raw, path)
        if self.share_identical_questions:
            borrowed = borrowed_rationales(data, rows)
            rows = pd.concat([rows, borrowed], ignore_index=True)
            report.matched += len(borrowed)
        return rows, report, raw["id"].tolist()

    def rationales(self, data: pd.DataFrame, split: str) -> pd.DataFrame:
        """The file's rationales for this split's rows, matched and checked for coverage."""
        path = self.files.get(split)
        rows, self.report, raw_ids = self.matched(data, split)
        log.info("precomputed rationales from %s: %s", path, self.report.describe())
        problem = coverage_problem(self.report, self.min_coverage, data, rows["id"], raw_ids)
        if problem:
            what, fix = problem.rsplit(". Fix: ", 1)
            raise InputError(str(path), None, what, fix)
        rows = rows.drop(columns=[c for c in ("line", "question", "choices") if c in rows.columns])
        rows["prompt_hash"] = "file:" + file_sha256(path)[:16]
        rows["gen_params"] = json.dumps(
            {"backend": "precomputed", "file": Path(path).name, "match": self.match}
        )
        rows.attrs["match"] = self.report.as_dict()
        return rows


def borrowed_rationales(data: pd.DataFrame, raw: pd.DataFrame) -> pd.DataFrame:
    """Rows for uncovered ids copied from a covered id with the same question and choices."""
    key = (
        data["question"].str.strip().str.lower()
        + "\x1f"
        + data["choices"].map(lambda c: "\x1f".join(x.strip().lower() for x in c))
    )
    covered = data["id"].isin(set(raw["id"]))
    donor_of_key = dict(zip(key[covered], data.loc[covered, "id"]))
    by_id = raw.set_index("id")
    rows = []
    for rid, k in zip(data.loc[~covered, "id"], key[~covered]):
        if k in donor_of_key:
            row = by_id.loc[donor_of_key[k]].to_dict()
            rows.append({**row, "id": rid})
            log.info("id %s borrows the rationale of identical question %s", rid, donor_of_key[k])
    return pd.DataFrame(rows, columns=raw.columns)
