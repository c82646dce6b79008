"""Resumable generation: the split is cut into fixed shards, each written when done.

A killed teacher job, run again, reads the finished shards and generates only
the rest. A shard is reused only when its rows are the same ids and its
``key`` (model, prompt hash, generation parameters) matches the current run,
so a changed prompt or temperature regenerates everything instead of mixing
old and new rationales.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

import pandas as pd
from tqdm.auto import tqdm

from ..tables import read_provenance, write_table

log = logging.getLogger(__name__)


@dataclass
class ShardStats:
    """How many shards a generating teacher reused and how many it wrote."""

    reused: int = 0
    generated: int = 0


def shard_path(shard_dir: str | Path, index: int) -> Path:
    """The file of shard ``index`` in ``shard_dir``."""
    return Path(shard_dir) / f"shard-{index:05d}.parquet"


def _reusable(path: Path, ids: list[str], key: Mapping) -> bool:
    if not path.exists():
        return False
    try:
        same_key = read_provenance(path).get("params", {}).get("key") == json.loads(
            json.dumps(dict(key))
        )
        return same_key and pd.read_parquet(path, columns=["id"])["id"].tolist() == ids
    except Exception as e:  # a torn or foreign file: regenerate it
        log.warning("ignoring unreadable shard %s (%s)", path, e)
        return False


def generate_in_shards(
    data: pd.DataFrame,
    shard_dir: str | Path | None,
    shard_size: int,
    key: Mapping,
    generate: Callable[[pd.DataFrame], pd.DataFrame],
    desc: str = "teacher",
) -> tuple[pd.DataFrame, ShardStats]:
    """Run ``generate`` over ``data`` shard by shard; returns all rows and what was reused.

    ``generate(rows)`` returns one output row per input row with at least ``id``.
    Without ``shard_dir`` nothing is cached (one pass, as a library call).
    """
    stats, parts = ShardStats(), []
    starts = list(range(0, len(data), max(1, shard_size)))
    bar = tqdm(total=len(data), desc=desc, unit="q", mininterval=2.0)
    for index, start in enumerate(starts):
        chunk = data.iloc[start : start + shard_size]
        ids = chunk["id"].astype(str).tolist()
        path = shard_path(shard_dir, index) if shard_dir else None
        if path is not None and _reusable(path, ids, key):
            parts.append(pd.read_parquet(path))
            stats.reused += 1
        else:
            out = generate(chunk)
            if out["id"].astype(str).tolist() != ids:
                raise RuntimeError(f"{desc}: shard {index} returned ids out of order")
            if path is not None:
                write_table(out, path, params={"key": dict(key), "shard": index})
            parts.append(out)
            stats.generated += 1
        bar.update(len(chunk))
    bar.close()
    log.info(
        "%s: %d shards reused, %d generated (shard size %d)%s",
        desc,
        stats.reused,
        stats.generated,
        shard_size,
        f" in {shard_dir}" if shard_dir else "",
    )
    rows = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["id"])
    return rows, stats
