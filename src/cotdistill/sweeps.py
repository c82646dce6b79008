"""Sweeps: one config entry that expands into a family of ordinary conditions.

    sweeps:
      keytokens_after:    {k: [1, 2, 3, 5, 10]}
      masked_after:       {fraction: [0.25, 0.5, 0.75]}

Each value is a condition of its own, named ``BASE@PARAM=VALUE``
(``keytokens_after@k=3``), with its own cached tables, runs and evaluations, so
adding a value plans only that point. ``BASE`` is a condition of the config,
whose other parameters (``scores:``, ``seed:``) every point shares, or a
registered condition function. Several parameters of one entry are swept one at
a time. A point whose value is its base condition's own is that condition: it is
not trained twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

SEP, EQ = "@", "="
# a condition name, or a sweep point's: BASE@PARAM=VALUE (a Snakemake wildcard and a file name)
CONDITION_NAME = r"[A-Za-z0-9_.\-]+(?:@[A-Za-z_]+=[A-Za-z0-9_.\-]+)?"


@dataclass(frozen=True)
class Point:
    """One value of a sweep: the condition that trains it and what it varies."""

    sweep: str  # the sweep's key: its base condition (or function)
    function: str  # the registered condition function
    param: str
    value: Any
    condition: str  # the condition name its runs live under


def point_name(base: str, param: str, value: Any) -> str:
    """The condition name of one sweep point: ``BASE@PARAM=VALUE``."""
    return f"{base}{SEP}{param}{EQ}{_text(value)}"


def _text(value: Any) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def points(config: Mapping) -> list[Point]:
    """Every sweep point of the config, in the order written."""
    conditions = config.get("conditions") or {}
    out = []
    for base, params in (config.get("sweeps") or {}).items():
        spec = conditions.get(base) or {}
        function = spec.get("function", base)
        for param, values in (params or {}).items():
            for value in values or []:
                own = base in conditions and spec.get(param) == value
                out.append(
                    Point(
                        base,
                        function,
                        param,
                        value,
                        base if own else point_name(base, param, value),
                    )
                )
    return out


# a budget is k units or a fraction of them: sweeping one drops the base's other
EXCLUSIVE = {"k": "fraction", "fraction": "k"}


def point_spec(base_spec: Mapping | None, function: str, param: str, value: Any) -> dict:
    """A point's condition entry: its base's, with ``function`` set and ``param`` replaced."""
    spec = {**(base_spec or {}), "function": function, param: value}
    spec.pop(EXCLUSIVE.get(param, ""), None)
    return spec


def expand(config: Mapping) -> dict[str, dict]:
    """The config's conditions followed by one per sweep point (the points' specs: the
    base condition's, with ``function`` set and the swept parameter replaced)."""
    conditions = {name: dict(spec or {}) for name, spec in (config.get("conditions") or {}).items()}
    for p in points(config):
        if p.condition not in conditions:
            base = (config.get("conditions") or {}).get(p.sweep)
            conditions[p.condition] = point_spec(base, p.function, p.param, p.value)
    return conditions


def with_sweeps(config: Mapping) -> dict:
    """``config`` with its sweeps expanded into ``conditions`` (what every job sees)."""
    return {**config, "conditions": expand(config)}


def sweep_problems(config: Mapping) -> list[str]:
    """Checks of ``sweeps:`` beyond the schema: a base that is a condition or a function,
    values each point's condition accepts, and no point that clashes with a condition."""
    from .conditions import REGISTRY, resolve
    from .errors import ConfigError

    conditions = config.get("conditions") or {}
    problems = []
    for base, params in (config.get("sweeps") or {}).items():
        if base not in conditions and base not in REGISTRY:
            problems.append(
                f"'sweeps.{base}': neither a condition of this config nor a "
                f"registered condition. Fix: use a condition name ({sorted(conditions)})"
                f" or a function ({sorted(REGISTRY)})"
            )
            continue
        spec = conditions.get(base) or {}
        for param, values in (params or {}).items():
            if len(set(map(_text, values))) < len(values):
                problems.append(
                    f"'sweeps.{base}.{param}': a value is repeated. Fix: give each value once"
                )
            for value in values:
                point = point_spec(spec, spec.get("function", base), param, value)
                try:
                    resolve(point_name(base, param, value), point)
                except ConfigError as e:
                    problems.append(
                        f"'sweeps.{base}.{param}': {e.problem} (value {value!r}). Fix: {e.fix}"
                    )
                    break
    return problems
