"""Import published rationales from a JSONL, CSV or Parquet file per split."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from ..errors import ConfigError, InputError
from ..tables import file_sha256
from .base import Teacher, register_backend

log = logging.getLogger(__name__)


def read_rationale_file(path: str | Path, id_column: str, rationale_column: str) -> pd.DataFrame:
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
        raise InputError(str(path), None, f"unknown file type '{suffix}'",
                         "use .jsonl, .csv or .parquet")
    for col, key in ((id_column, "id_column"), (rationale_column, "rationale_column")):
        if col not in df.columns:
            raise InputError(str(path), None, f"no column '{col}' (columns: {list(df.columns)})",
                             f"set teachers.*.{key} to the right column name")
    df = df.rename(columns={id_column: "id", rationale_column: "rationale"})
    df["id"] = df["id"].astype(str)
    bad = df["rationale"].isna() | (df["rationale"].astype(str).str.strip() == "")
    if bad.any():
        k = int(bad.to_numpy().nonzero()[0][0])
        row = lines[k] if lines else k + 1
        raise InputError(str(path), row, "empty rationale",
                         "drop rows without a rationale or fill them in")
    return df[["id", "rationale"]]


@register_backend("precomputed")
class PrecomputedTeacher(Teacher):
    """``files: {split: path}``; ``id_column``/``rationale_column`` name the columns;
    fails when fewer than ``min_coverage`` of the dataset's ids have a rationale.

    ``share_identical_questions``: a dataset id without a rationale borrows the
    rationale of another id whose question and choices are identical. Real
    releases need it: OpenBookQA train repeats 5 questions under two ids each,
    and a rationale release matched on question text gives both rationales one id.
    """

    def __init__(self, files: dict, id_column: str = "id", rationale_column: str = "rationale",
                 min_coverage: float = 0.95, share_identical_questions: bool = False):
        super().__init__(files=files, id_column=id_column, rationale_column=rationale_column,
                         min_coverage=min_coverage,
                         share_identical_questions=share_identical_questions)
        self.files, self.min_coverage = dict(files), float(min_coverage)
        self.id_column, self.rationale_column = id_column, rationale_column
        self.share_identical_questions = bool(share_identical_questions)

    def rationales(self, data: pd.DataFrame, split: str) -> pd.DataFrame:
        if split not in self.files:
            raise ConfigError(f"teachers.*.files.{split}", "no rationale file for this split",
                              f"add 'files: {{{split}: PATH}}' to the precomputed teacher")
        path = self.files[split]
        raw = read_rationale_file(path, self.id_column, self.rationale_column)
        raw["prompt_hash"] = "file:" + file_sha256(path)[:16]
        raw["gen_params"] = json.dumps({"backend": "precomputed", "file": Path(path).name})
        dup = raw["id"].duplicated(keep="first")
        if dup.any():
            log.warning("%s: %d rows repeat an earlier id (kept the first): %s", path,
                        int(dup.sum()), raw.loc[dup, "id"].head(5).tolist())
            raw = raw[~dup]
        if self.share_identical_questions:
            raw = pd.concat([raw, borrowed_rationales(data, raw)], ignore_index=True)
        covered = data["id"].isin(set(raw["id"]))
        self.coverage = float(covered.mean()) if len(data) else 0.0
        log.info("precomputed rationales from %s cover %d of %d ids (%.1f%%)",
                 path, int(covered.sum()), len(data), 100 * self.coverage)
        if self.coverage < self.min_coverage:
            missing = data.loc[~covered, "id"].head(5).tolist()
            raise InputError(str(path), None,
                             f"covers {int(covered.sum())} of {len(data)} dataset ids "
                             f"({100 * self.coverage:.1f}% < min_coverage "
                             f"{100 * self.min_coverage:.1f}%); first missing ids: {missing}",
                             "supply rationales for the missing ids, or lower min_coverage")
        return raw


def borrowed_rationales(data: pd.DataFrame, raw: pd.DataFrame) -> pd.DataFrame:
    """Rows for uncovered ids copied from a covered id with the same question and choices."""
    key = data["question"].str.strip().str.lower() + "\x1f" + data["choices"].map(
        lambda c: "\x1f".join(x.strip().lower() for x in c))
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
