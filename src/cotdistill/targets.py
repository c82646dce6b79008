"""Target lists and per-rule settings the Snakefile derives from the config."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Mapping

from .config import (
    attributor_model,
    condition_scores,
    lens_enabled,
    model_source,
    results_dir,
    units,
)
from .models import needs_conversion

RUN = "results/runs/{student}/{teacher}/{dataset}/{condition}/seed{seed}"
BASE = "results/students/{student}/{teacher}/{dataset}/base"
FINAL = [
    "results/tables/accuracy.csv",
    "results/tables/accuracy.md",
    "results/tables/accuracy.tex",
    "results/tables/runs.csv",
    "results/tables/comparisons.csv",
    "results/tables/comparisons.md",
    "results/tables/comparisons.tex",
    "results/plots/accuracy.png",
    "results/summary.md",
    "results/tables/verdicts.csv",
    "results/tables/accuracy.html",
    "results/tables/comparisons.html",
    "results/summary.html",
]
# a condition's training table per random draw (the seed for conditions that draw, else 0)
CONDITION_TRAIN = "results/conditions/{teacher}/{dataset}/{condition}/train.draw{draw}.parquet"
CONDITION_TEST = "results/conditions/{teacher}/{dataset}/{condition}/test.parquet"
SCORES = "results/attribution/{attributor}/{teacher}/{dataset}/scores.parquet"
ATTRIBUTION_FIGURE = "results/plots/attribution/{attributor}/{teacher}/{dataset}.png"
ATTRIBUTION_TABLES = [
    "results/tables/attribution.csv",
    "results/tables/attribution.md",
    "results/tables/attribution.html",
]
RATIONALES = "results/rationales/{teacher}/{dataset}/train.parquet"
TRAIN_DATA = "results/data/{dataset}/train.parquet"
LENS_TABLES = [
    "results/tables/lens_curves.csv",
    "results/tables/lens_emergence.csv",
    "results/tables/lens_emergence.md",
    "results/tables/lens_emergence.html",
]
LENS_PLOT = "results/plots/lens/{student}/{teacher}/{dataset}.png"
SWEEP_TABLES = [
    "results/tables/sweeps.csv",
    "results/tables/sweeps.md",
    "results/tables/sweeps.html",
]
SWEEP_PLOT = "results/plots/sweeps/{student}/{teacher}/{dataset}.png"
# RUN as a pattern under any results folder: "{name}" matches one path part, "seed{seed}" a number
_RUN_RE = re.compile(
    re.sub(
        r"\\\{(\w+)\\\}", lambda m: rf"(?P<{m[1]}>[^/]+)", re.escape(RUN.removeprefix("results/"))
    ).replace(r"(?P<seed>[^/]+)", r"(?P<seed>\d+)")
    + "/"
)


def relocate(config: Mapping, path: str) -> str:
    """``path`` (written under results/) under the config's own results folder."""
    root = results_dir(config)
    if root == "results" or path.startswith(root + "/") or not path.startswith("results/"):
        return path  # already there (relocating twice is harmless)
    return root + path.removeprefix("results")


def run_identity(path: str | Path) -> dict:
    """{student, teacher, dataset, condition, seed} of a file inside a run folder."""
    m = _RUN_RE.search(Path(path).as_posix())
    if not m:
        raise ValueError(f"{path}: not inside a run folder ({RUN})")
    return {**m.groupdict(), "seed": int(m["seed"])}


def final(config: Mapping) -> list[str]:
    """Everything ``rule all`` asks for."""
    extra = (
        ATTRIBUTION_TABLES + attribution_paths(config, ATTRIBUTION_FIGURE)
        if attribution_units(config)
        else []
    )
    if lens_enabled(config):
        extra += LENS_TABLES + [
            LENS_PLOT.format(student=s, teacher=t, dataset=d)
            for t, d in units(config)
            for s in config["students"]
        ]
    if config.get("sweeps"):
        extra += SWEEP_TABLES + list(sweep_plots(config).values())
    return [relocate(config, p) for p in FINAL + extra]


def sweep_plots(config: Mapping) -> dict[tuple, str]:
    """(student, teacher, dataset) -> its sweep plot."""
    return {
        (s, t, d): relocate(config, SWEEP_PLOT.format(student=s, teacher=t, dataset=d))
        for t, d in units(config)
        for s in config["students"]
    }


def sweep_conditions(config: Mapping) -> list[str]:
    """The conditions a sweep table reads: every point's, and the reference lines'."""
    from .curves import REFERENCES
    from .sweeps import points

    wanted = [p.condition for p in points(config)] + [
        c for c in REFERENCES if c in config["conditions"]
    ]
    return list(dict.fromkeys(wanted))


def sweep_inputs(config: Mapping) -> dict[str, list[str]]:
    """The predictions and training tables (their budget shares) of the sweep conditions."""
    wanted = set(sweep_conditions(config))
    runs = [
        relocate(config, RUN.format(student=s, teacher=t, dataset=d, condition=c, seed=seed))
        for t, d in units(config)
        for s in config["students"]
        for c in wanted
        for seed in config["seeds"]
    ]
    tables = list(
        dict.fromkeys(
            condition_train(config, t, d, c, seed)
            for t, d in units(config)
            for c in wanted
            for seed in config["seeds"]
        )
    )
    return {
        "predictions": sorted(f"{r}/predictions.parquet" for r in runs),
        "conditions": sorted(tables),
    }


def attribution_units(config: Mapping) -> list[tuple[str, str, str]]:
    """(attributor, teacher, dataset) triples with scores to compute: every entry for
    every unit, except 'known' sources where the teacher records no key words."""
    from .teachers.base import backend_class

    out = []
    for name, entry in (config.get("attribution") or {}).items():
        for t, d in units(config):
            if (entry or {}).get("method") == "known":
                cls = backend_class(config["teachers"][t]["backend"])
                if cls is None or not cls.provides_key_words:
                    continue
            out.append((name, t, d))
    return out


def attribution_paths(config: Mapping, pattern: str) -> list[str]:
    return [
        relocate(config, pattern.format(attributor=a, teacher=t, dataset=d))
        for a, t, d in attribution_units(config)
    ]


def scores_input(config: Mapping, condition: str, teacher: str, dataset: str) -> list[str]:
    """The scores table a condition reads, for exactly the conditions that need one."""
    name = condition_scores(config, condition)
    return (
        []
        if name is None
        else [relocate(config, SCORES.format(attributor=name, teacher=teacher, dataset=dataset))]
    )


def attributor_model_input(
    config: Mapping, attributor: str, teacher: str, dataset: str
) -> list[str]:
    """The model folder an attribution job reads: a trained run's, or converted weights."""
    entry = config["attribution"][attributor] or {}
    if entry.get("method") == "known":
        return []
    model = attributor_model(config, attributor)
    if "run" in model:
        run = RUN.format(
            student=model["student"],
            teacher=teacher,
            dataset=dataset,
            condition=model["run"],
            seed=model["seed"],
        )
        return [relocate(config, f"{run}/model")] + adapter_base(
            config, model["student"], teacher, dataset
        )
    if model.get("teacher"):
        return converted_weights(config, "teachers", teacher)
    return converted_weights(config, "attributors", attributor)


def adapter_base(config: Mapping, student: str, teacher: str, dataset: str) -> list[str]:
    """A LoRA run saves adapters only: whoever reads its model also reads the base they sit on."""
    if config["students"][student].get("lora"):
        return [relocate(config, BASE.format(student=student, teacher=teacher, dataset=dataset))]
    return []


def condition_train(
    config: Mapping, teacher: str, dataset: str, condition: str, seed: int | str
) -> str:
    """The training table run ``seed`` of ``condition`` trains on: its own random draw
    when the condition draws at random, the one shared table otherwise."""
    from .conditions import draws

    draw = int(seed) if draws(condition, config["conditions"][condition]) else 0
    return relocate(
        config,
        CONDITION_TRAIN.format(teacher=teacher, dataset=dataset, condition=condition, draw=draw),
    )


def rationale_first(config: Mapping, condition: str) -> bool:
    """Whether ``condition``'s students write a rationale before the label."""
    from .conditions import resolve

    return resolve(condition, config["conditions"][condition])[0].rationale_first


def run_dirs(config: Mapping) -> list[str]:
    """Every (student, teacher, dataset, condition, seed) run folder the config asks for."""
    return [
        relocate(config, RUN.format(student=s, teacher=t, dataset=d, condition=c, seed=seed))
        for t, d in units(config)
        for s in config["students"]
        for c in config["conditions"]
        for seed in config["seeds"]
    ]


def predictions(config: Mapping) -> list[str]:
    return [f"{run}/predictions.parquet" for run in run_dirs(config)]


def train_logs(config: Mapping) -> list[str]:
    return [f"{run}/train_log.parquet" for run in run_dirs(config)]


def condition_tables(config: Mapping) -> list[str]:
    """Every training table the config's runs train on (one per random draw)."""
    return list(
        dict.fromkeys(
            condition_train(config, t, d, c, seed)
            for t, d in units(config)
            for c in config["conditions"]
            for seed in config["seeds"]
        )
    )


def lens_claim_tables(config: Mapping) -> list[str]:
    """lens.parquet of the runs the lens claim compares (its per-question measure)."""
    from .verdicts import LENS_CLAIM

    wanted = {LENS_CLAIM.parts[0].condition, LENS_CLAIM.parts[0].reference}
    return [p for p in lens_tables(config) if run_identity(p)["condition"] in wanted]


def lens_tables(
    config: Mapping,
    student: str | None = None,
    teacher: str | None = None,
    dataset: str | None = None,
) -> list[str]:
    """Every run's lens.parquet, or one (student, teacher, dataset) unit's."""
    paths = [f"{run}/lens.parquet" for run in run_dirs(config)]
    want = {"student": student, "teacher": teacher, "dataset": dataset}
    return [p for p in paths if all(v is None or run_identity(p)[k] == v for k, v in want.items())]


MODEL = "results/models/{owner}/{name}"


def converted_weights(config: Mapping, owner: str, name: str) -> list[str]:
    """The converted safetensors folder a student or teacher loads from, if it needs one."""
    if needs_conversion(model_source(config, owner, name)):
        return [relocate(config, MODEL.format(owner=owner, name=name))]
    return []
