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
