"""Threads and cluster resources of each rule's jobs.

Three layers, each keyed by the rule's own name (the name a profile's
``set-resources`` uses): the defaults below, sized for one job of a small
config; the config's ``threads:`` and ``resources:`` (what an experiment
needs: a 2B student wants more memory than GPT-2); the profile (what a site
changes: partition, account, GPUs). ``runtime`` is in minutes.
"""

from __future__ import annotations

from typing import Mapping

_SMALL = {"mem_mb": 2000, "runtime": 30}
DEFAULTS: dict[str, dict] = {
    "data": _SMALL,
    "conditions": _SMALL,
    "condition_test": _SMALL,
    "student_base": {"mem_mb": 4000, "runtime": 30},
    "convert_model": {"mem_mb": 16000, "runtime": 60},
    "teacher": {"mem_mb": 16000, "runtime": 480},
    "train": {"mem_mb": 16000, "runtime": 480},
    "evaluate": {"mem_mb": 8000, "runtime": 120},  # and the lens readouts
    "attribution": {"mem_mb": 16000, "runtime": 240},
    "attribution_figure": _SMALL,
    "attribution_table": _SMALL,
    "lens_tables": _SMALL,
    "lens_plot": _SMALL,
    "aggregate": _SMALL,
    "summary": _SMALL,
    "sweeps": _SMALL,
}
# the rules whose jobs run torch on threads the config sets (``threads: {rule: N}``)
THREADED_RULES = ("train", "evaluate", "attribution")


def threads(config: Mapping, rule: str) -> int:
    """Threads of one ``rule`` job: the config's ``threads: {rule: N}``, else 1."""
    if rule not in THREADED_RULES:
        raise KeyError(f"rule {rule!r} takes no threads setting")
    return int((config.get("threads") or {}).get(rule, 1))


def resources(config: Mapping, rule: str) -> dict:
    """Resources of one ``rule`` job: the defaults, then the config's ``resources: {rule: ...}``."""
    if rule not in DEFAULTS:
        raise KeyError(f"no resource defaults for rule {rule!r}")
    return {**DEFAULTS[rule], **((config.get("resources") or {}).get(rule) or {})}
