"""Parquet tables with provenance in the schema metadata.

Every table the workflow writes records which config produced it, which code
version, and the sha256 of each upstream file, so a number in a report can be
traced back to the exact inputs that made it.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path
from typing import Any, Iterable, Mapping

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from . import __version__
from .errors import OutputError

PROVENANCE_KEY = b"cotdistill.provenance"


def file_sha256(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes; directories hash their sorted file list and contents."""
    p = Path(path)
    h = hashlib.sha256()
    if p.is_dir():
        for child in sorted(q for q in p.rglob("*") if q.is_file()):
            h.update(str(child.relative_to(p)).encode())
            h.update(file_sha256(child).encode())
        return h.hexdigest()
    with open(p, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def config_hash(obj: Any) -> str:
    """Stable short hash of a JSON-serialisable config fragment."""
    text = json.dumps(obj, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def code_version() -> str:
    """Package version plus the git commit of the checkout, when there is one."""
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).resolve().parent,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        rev = ""
    return f"{__version__}+{rev}" if rev else __version__


def provenance(params: Any = None, upstream: Iterable[str | os.PathLike] = ()) -> dict:
    """The provenance record stored with a table."""
    return {
        "config_hash": config_hash(params),
        "params": params,
        "code_version": code_version(),
        "upstream": {str(p): file_sha256(p) for p in upstream},
    }


def write_table(
    df: pd.DataFrame,
    path: str | os.PathLike,
    params: Any = None,
    upstream: Iterable[str | os.PathLike] = (),
) -> None:
    """Write `df` to Parquet atomically, with provenance in the schema metadata."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(df.reset_index(drop=True), preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[PROVENANCE_KEY] = json.dumps(provenance(params, upstream), default=str).encode()
    table = table.replace_schema_metadata(meta)
    tmp = path.with_suffix(path.suffix + ".tmp")
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, path)  # a killed job never leaves a half-written table behind
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise OutputError(str(path), e) from e


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """A Parquet table as a DataFrame."""
    return pd.read_parquet(path)


def read_provenance(path: str | os.PathLike) -> Mapping[str, Any]:
    """The provenance record a table was written with ({} when it has none)."""
    meta = pq.read_schema(path).metadata or {}
    raw = meta.get(PROVENANCE_KEY)
    return json.loads(raw) if raw else {}


def markdown(rows: pd.DataFrame, note: str) -> str:
    """A pipe table of ``rows`` (every cell as written), the note under it."""
    lines = ["| " + " | ".join(rows.columns) + " |", "|" + "---|" * len(rows.columns)]
    lines += ["| " + " | ".join(str(v) for v in r) + " |" for r in rows.itertuples(index=False)]
    return "\n".join(lines) + "\n\n" + note + "\n"


def latex(rows: pd.DataFrame, note: str) -> str:
    """A booktabs tabular, the note as a comment above it."""
    return f"% {note}\n" + rows.to_latex(index=False, escape=True)
