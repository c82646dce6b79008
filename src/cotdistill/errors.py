"""Errors that tell the user where the problem is and what to do about it."""

from __future__ import annotations

import contextlib
import errno
import os
import re


class CotDistillError(Exception):
    """Base class for errors the user can fix."""


class InputError(CotDistillError):
    """Bad input data: names the file, the row (1-based) and the fix."""

    def __init__(self, path: str, row: int | None, problem: str, fix: str):
        self.path, self.row, self.problem, self.fix = str(path), row, problem, fix
        where = f"{path}, row {row}" if row is not None else str(path)
        super().__init__(f"{where}: {problem}. Fix: {fix}")


class OutputError(CotDistillError):
    """A result that could not be written (a full disk, no permission): names the file."""

    def __init__(self, path: str, error: OSError):
        self.path = str(path)
        reason = error.strerror or str(error)
        fix = (
            "raise the file-size limit (ulimit -f) of the shell or job that runs it"
            if error.errno == errno.EFBIG
            else "free space on (or grant write access to) the disk that holds it (df -h)"
        )
        super().__init__(
            f"{path}: could not be written ({reason}). Fix: {fix}, then run the "
            f"workflow again: finished results are kept"
        )


@contextlib.contextmanager
def saving(path):
    """Turn a failed write under ``path`` into an :class:`OutputError` that names it:
    an OSError, and the errors safetensors and torch.save raise for the same faults
    (safetensors: "I/O error: File too large (os error 27)"; torch: "unexpected pos")."""
    try:
        yield
    except OSError as e:
        raise OutputError(str(path), e) from e
    except Exception as e:
        cause = _write_failure(e)
        if cause is None:
            raise
        raise OutputError(str(path), cause) from e


def _write_failure(error: Exception) -> OSError | None:
    text = str(error)
    code = re.search(r"os error (\d+)", text)
    if type(error).__name__ == "SafetensorError" and code:
        return OSError(int(code[1]), os.strerror(int(code[1])))
    if isinstance(error, RuntimeError) and (
        "inline_container" in text or "PytorchStreamWriter" in text
    ):
        return OSError(errno.EIO, "the file was cut short: a full disk or a file-size limit")
    return None


class ConfigError(CotDistillError):
    """Bad configuration: names the key and the fix."""

    def __init__(self, key: str, problem: str, fix: str, source: str = "config"):
        self.key, self.problem, self.fix = key, problem, fix
        super().__init__(f"{source}: '{key}': {problem}. Fix: {fix}")


class InvalidConfig(CotDistillError):
    """Every problem found in a config, each naming its key and fix."""

    def __init__(self, source: str, problems: list[str]):
        self.source, self.problems = source, problems
        lines = "\n  - ".join(problems)
        super().__init__(
            f"{source} has {len(problems)} problem(s); nothing has been run:\n  - {lines}"
        )
