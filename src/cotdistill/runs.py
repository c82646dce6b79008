"""Which run a table belongs to, written into the table by the job that made it.

A train or evaluate job knows its run (student, teacher, dataset, condition, seed) from
its wildcards and stamps it on every row of what it writes: the training log, the
predictions and the lens readouts. Tables read the identity back from those columns,
so no later step parses a path, and a user who concatenates every predictions file
keeps each row's run.
"""

from __future__ import annotations

import os
from typing import Any, Mapping

import pandas as pd
import pyarrow.parquet as pq

from .errors import InputError

KEYS = ("student", "teacher", "dataset", "condition", "seed")
UNIT = KEYS[:3]  # (student, teacher, dataset): runs whose test questions are the same


def identity(values: Mapping[str, Any]) -> dict[str, Any]:
    """The run's five keys from a mapping that holds them (a job's wildcards, a row)."""
    missing = [k for k in KEYS if k not in values]
    if missing:
        raise ValueError(f"a run's identity needs {list(KEYS)}; {missing} missing")
    return {k: int(values[k]) if k == "seed" else str(values[k]) for k in KEYS}


def stamp(table: pd.DataFrame, run: Mapping[str, Any] | None) -> pd.DataFrame:
    """``table`` with the run's keys as its first columns (unchanged when ``run`` is None:
    a table written outside the workflow, by a caller that knows no run)."""
    if run is None:
        return table
    ident = identity(run)
    rest = table.drop(columns=[k for k in KEYS if k in table.columns])
    front = pd.DataFrame({k: [v] * len(table) for k, v in ident.items()}, index=table.index)
    return pd.concat([front, rest], axis=1)


def read_identity(path: str | os.PathLike) -> dict[str, Any]:
    """The run a stamped table belongs to, from its first row's identity columns."""
    data = pq.ParquetFile(path)
    absent = [k for k in KEYS if k not in data.schema_arrow.names]
    if absent or data.metadata.num_rows == 0:
        raise InputError(
            str(path),
            None,
            f"records no run identity (columns {list(KEYS)}"
            + (f"; {absent} absent)" if absent else "; the table is empty)"),
            "an older cotdistill wrote it: rerun the job that writes it "
            "(snakemake --cores all --forcerun train evaluate)",
        )
    first = data.read_row_group(0, columns=list(KEYS)).slice(0, 1).to_pylist()[0]
    return identity(first)
