"""Target lists and per-rule settings the Snakefile derives from the config."""

from __future__ import annotations

from typing import Mapping

from .config import model_source, units
from .models import needs_conversion

RUN = "results/runs/{student}/{teacher}/{dataset}/{condition}/seed{seed}"
FINAL = ["results/tables/accuracy.csv", "results/tables/accuracy.md",
         "results/tables/runs.csv", "results/plots/accuracy.png"]


def run_dirs(config: Mapping) -> list[str]:
    """Every (student, teacher, dataset, condition, seed) run folder the config asks for."""
    return [RUN.format(student=s, teacher=t, dataset=d, condition=c, seed=seed)
            for t, d in units(config) for s in config["students"]
            for c in config["conditions"] for seed in config["seeds"]]


def predictions(config: Mapping) -> list[str]:
    return [f"{run}/predictions.parquet" for run in run_dirs(config)]


def threads_for(config: Mapping, family: str, default: int = 1) -> int:
    return int((config.get("threads") or {}).get(family, default))


def resources_for(config: Mapping, family: str) -> dict:
    """Cluster resources of a rule family from config 'resources:' (none locally)."""
    return dict((config.get("resources") or {}).get(family) or {})


MODEL = "results/models/{owner}/{name}"


def converted_weights(config: Mapping, owner: str, name: str) -> list[str]:
    """The converted safetensors folder a student or teacher loads from, if it needs one."""
    if needs_conversion(model_source(config, owner, name)):
        return [MODEL.format(owner=owner, name=name)]
    return []
