"""What each dataset split kept, skipped and shares with train (for the summary)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..tables import markdown, read_provenance, read_table
from .overlap import overlapping


def data_counts(paths: list[str]) -> pd.DataFrame:
    """One row per (dataset, split) of ``results/data/{dataset}/{split}.parquet`` files:
    rows kept, rows skipped for repeated choice texts, and (test) questions also in train."""
    tables = {(Path(p).parent.name, Path(p).stem): p for p in paths}
    rows = []
    for (dataset, split), path in tables.items():
        skipped = (read_provenance(path).get("params") or {}).get("skipped") or {}
        row = {
            "dataset": dataset,
            "split": split,
            "rows": len(read_table(path)),
            "skipped (repeated choices)": int(skipped.get("repeated_choices", 0)),
            "also in train": "",
        }
        if split == "test" and (dataset, "train") in tables:
            row["also in train"] = len(
                overlapping(read_table(tables[dataset, "train"]), read_table(path))
            )
        rows.append(row)
    return pd.DataFrame(rows)


DATA_NOTE = (
    "Rows each split kept, rows skipped (counted, never silent), and test questions "
    "that also appear in train (only with allow_overlap: true)."
)


def data_section(paths: list[str]) -> str:
    """The summary's "Data" section for these data tables."""
    return "## Data\n\n" + markdown(data_counts(paths), DATA_NOTE)
