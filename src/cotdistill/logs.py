"""Per-job logging for workflow scripts."""

from __future__ import annotations

import contextlib
import logging
import sys
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def job_log(path: str | None) -> Iterator[logging.Logger]:
    """Log to ``path`` and stderr for the duration of a job; a failure's traceback
    is written to the log before the exception propagates."""
    root = logging.getLogger()
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(path, mode="w"))
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    for h in handlers:
        h.setFormatter(fmt)
        root.addHandler(h)
    root.setLevel(logging.INFO)
    try:
        yield root
    except Exception:
        root.exception("job failed")
        raise
    finally:
        for h in handlers:
            root.removeHandler(h)
            h.close()


def optional_path(value) -> str | None:
    """A Snakemake named input that may be absent: None, one path, or a one-path list."""
    if not value:
        return None
    if isinstance(value, str):
        return value
    items = [str(v) for v in value]
    return items[0] if items else None
