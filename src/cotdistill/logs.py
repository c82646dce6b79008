"""Per-job logging for workflow scripts."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from pathlib import Path
from typing import Iterator

from .errors import CotDistillError


class _Last(logging.Handler):
    """Remembers the last INFO-or-higher message of a job (its one-line result)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.message = ""

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the record's message."""
        self.message = record.getMessage()


def job_name(path: str) -> str:
    """'train tiny/rulebased/synthetic/cot_after/seed0' from the job's log path."""
    parts = Path(path).with_suffix("").parts
    if "logs" in parts:
        parts = parts[parts.index("logs") + 1 :]
    return f"{parts[0]} {'/'.join(parts[1:])}".strip()


@contextlib.contextmanager
def job_log(path: str | None) -> Iterator[logging.Logger]:
    """Send everything a job prints (logging, progress bars, warnings, C-level
    stderr) to its log at ``path``; the terminal gets one line when the job ends:
    its name, its last log message and its time, or why it failed. A failure's
    traceback is written to the log before the exception propagates."""
    root = logging.getLogger()
    if not path:  # no log file: plain logging to the terminal
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        try:
            yield root
        finally:
            root.removeHandler(handler)
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    log_file = open(path, "w", buffering=1)
    terminal = os.fdopen(os.dup(2), "w", buffering=1)  # the terminal, kept for the last line
    sys.stderr.flush()
    os.dup2(log_file.fileno(), 2)  # C libraries and subprocesses write here too
    saved_stderr, sys.stderr = sys.stderr, log_file  # tqdm and warnings write to sys.stderr
    handler = logging.StreamHandler(log_file)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    last = _Last()
    for h in (handler, last):
        root.addHandler(h)
    root.setLevel(logging.INFO)
    start = time.perf_counter()
    failed = False
    try:
        yield root
        line = f"done   {job_name(path)} ({time.perf_counter() - start:.0f} s): {last.message}"
    except (KeyboardInterrupt, SystemExit) as e:  # stopped, not failed: nothing to explain
        line = f"STOPPED {job_name(path)} ({type(e).__name__})"
        raise
    except BaseException as e:
        root.exception("job failed")
        # an error the user can fix already names the file, row or key, and the fix
        what = str(e) if isinstance(e, CotDistillError) else f"{type(e).__name__}: {e}"
        line = f"FAILED {job_name(path)}: {what} (traceback in {path})"
        failed = True
    finally:
        for h in (handler, last):
            root.removeHandler(h)
        sys.stderr.flush()
        sys.stderr = saved_stderr
        os.dup2(terminal.fileno(), 2)
        print(line if failed else line[:300], file=terminal)
        terminal.close()
        log_file.close()
    if failed:
        raise SystemExit(1)  # the terminal has its one line; the traceback is in the log


def end_job() -> None:
    """End a finished job's process without the interpreter's teardown.

    Tearing down the ~3,000 modules that torch and transformers import costs
    about 1.4 s per job on a CPU (benchmarks/job_startup.py), paid by every
    train, evaluate and lens job of a grid. Call this only after every output
    is written and closed: buffered Python output is flushed here, and atexit
    handlers do not run.
    """
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def optional_path(value) -> str | None:
    """A Snakemake named input that may be absent: None, one path, or a one-path list."""
    if not value:
        return None
    if isinstance(value, str):
        return value
    items = [str(v) for v in value]
    return items[0] if items else None
