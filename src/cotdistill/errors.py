"""Errors that tell the user where the problem is and what to do about it."""

from __future__ import annotations


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
        super().__init__(f"{path}: could not be written ({reason}). Fix: free space on (or "
                         f"grant write access to) the disk that holds it (df -h), then run the "
                         f"workflow again: finished results are kept")


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
        super().__init__(f"{source} has {len(problems)} problem(s); nothing has been run:\n  - {lines}")
