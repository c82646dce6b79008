"""Target lists and per-rule settings the Snakefile derives from the config."""

from __future__ import annotations

from typing import Mapping, Sequence

from .config import (
    attributor_model,
    condition_scores,
    lens_enabled,
    model_source,
    results_dir,
    units,
)
from .models import needs_conversion

# Every file the workflow writes, named once. The rule that makes a file writes its
# pattern here (under the config's results folder: ``relocate``); a rule that reads it
# names ``rules.<maker>.output`` where the wildcards line up, and the functions below
# otherwise. Patterns are written under "results/" and relocated at use.
DATA = "results/data/{dataset}/{split}.parquet"
MODEL = "results/models/{owner}/{name}"  # GGUF weights converted to safetensors
TEACHER = "results/rationales/{teacher}/{dataset}/{split}.parquet"
SCORES = "results/attribution/{attributor}/{teacher}/{dataset}/scores.parquet"
ATTRIBUTION_FIGURE = "results/plots/attribution/{attributor}/{teacher}/{dataset}.png"
ATTRIBUTION_TABLES = {
    "csv": "results/tables/attribution.csv",
    "md": "results/tables/attribution.md",
    "html": "results/tables/attribution.html",
}
# a condition's training table per random draw (the seed for conditions that draw, else 0)
CONDITION_TRAIN = "results/conditions/{teacher}/{dataset}/{condition}/train.draw{draw}.parquet"
CONDITION_TEST = "results/conditions/{teacher}/{dataset}/{condition}/test.parquet"
BASE = "results/students/{student}/{teacher}/{dataset}/base"
RUN_KEY = "{student}/{teacher}/{dataset}/{condition}/seed{seed}"  # also its jobs' log names
RUN = f"results/runs/{RUN_KEY}"
# what a run's train and evaluate jobs write into its folder
RUN_FILES = {
    "model": f"{RUN}/model",
    "train_log": f"{RUN}/train_log.parquet",
    "lens": f"{RUN}/lens.parquet",
    "predictions": f"{RUN}/predictions.parquet",
    "metrics": f"{RUN}/metrics.json",
}
ACCURACY_TABLES = {
    "csv": "results/tables/accuracy.csv",
    "md": "results/tables/accuracy.md",
    "tex": "results/tables/accuracy.tex",
    "html": "results/tables/accuracy.html",
    "runs": "results/tables/runs.csv",
    "comparisons_csv": "results/tables/comparisons.csv",
    "comparisons_md": "results/tables/comparisons.md",
    "comparisons_tex": "results/tables/comparisons.tex",
    "comparisons_html": "results/tables/comparisons.html",
    "plot": "results/plots/accuracy.png",
}
SUMMARY = {
    "md": "results/summary.md",
    "csv": "results/tables/verdicts.csv",
    "html": "results/summary.html",
}
LENS_TABLES = {
    "curves": "results/tables/lens_curves.csv",
    "csv": "results/tables/lens_emergence.csv",
    "md": "results/tables/lens_emergence.md",
    "html": "results/tables/lens_emergence.html",
}
LENS_PLOT = "results/plots/lens/{student}/{teacher}/{dataset}.png"
SWEEP_TABLES = {
    "csv": "results/tables/sweeps.csv",
    "md": "results/tables/sweeps.md",
    "html": "results/tables/sweeps.html",
}
SWEEP_PLOT = "results/plots/sweeps/{student}/{teacher}/{dataset}.png"
# every job's log and benchmark: one folder per rule, one file per job ({key}: its wildcards)
LOG = "results/logs/{rule}/{key}.log"
BENCHMARK = "results/benchmarks/{rule}/{key}.tsv"


def filled(pattern: str, **values) -> str:
    """``pattern`` with some of its wildcards filled, the others left for Snakemake."""
    for name, value in values.items():
        pattern = pattern.replace("{" + name + "}", str(value))
    return pattern


TRAIN_DATA = filled(DATA, split="train")
TEST_DATA = filled(DATA, split="test")
RATIONALES = filled(TEACHER, split="train")  # what conditions and attribution read


def job_files(rule: str, key: str = "") -> tuple[str, str]:
    """A job's (log, benchmark): ``results/logs/<rule>/<key>.log`` and the same under
    benchmarks/; a rule with one job (no wildcards) gets ``results/logs/<rule>.log``."""
    if not key:
        return tuple(p.replace("/{key}", "").format(rule=rule) for p in (LOG, BENCHMARK))
    return tuple(filled(p, rule=rule, key=key) for p in (LOG, BENCHMARK))


def relocate(config: Mapping, path: str) -> str:
    """``path`` (written under results/) under the config's own results folder."""
    root = results_dir(config)
    if root == "results" or path.startswith(root + "/") or not path.startswith("results/"):
        return path  # already there (relocating twice is harmless)
    return root + path.removeprefix("results")


def final(config: Mapping) -> list[str]:
    """Everything ``rule all`` asks for."""
    extra = (
        [*ATTRIBUTION_TABLES.values(), *attribution_paths(config, ATTRIBUTION_FIGURE)]
        if attribution_units(config)
        else []
    )
    if lens_enabled(config):
        extra += [*LENS_TABLES.values()] + [
            LENS_PLOT.format(student=s, teacher=t, dataset=d)
            for t, d in units(config)
            for s in config["students"]
        ]
    if config.get("sweeps"):
        extra += [*SWEEP_TABLES.values(), *sweep_plots(config).values()]
    final = [*ACCURACY_TABLES.values(), *SUMMARY.values()]
    return [relocate(config, p) for p in final + extra]


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
    tables = list(
        dict.fromkeys(
            condition_train(config, t, d, c, seed)
            for t, d in units(config)
            for c in wanted
            for seed in config["seeds"]
        )
    )
    return {
        "predictions": sorted(run_files(config, "predictions", wanted)),
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
    """``pattern`` filled for every (attributor, teacher, dataset) with scores to compute."""
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
        run = RUN_FILES["model"].format(
            student=model["student"],
            teacher=teacher,
            dataset=dataset,
            condition=model["run"],
            seed=model["seed"],
        )
        return [relocate(config, run)] + adapter_base(config, model["student"], teacher, dataset)
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


def run_files(
    config: Mapping,
    name: str,
    conditions: Sequence[str] | None = None,
    student: str | None = None,
    teacher: str | None = None,
    dataset: str | None = None,
) -> list[str]:
    """One file (``RUN_FILES[name]``) of every (student, teacher, dataset, condition,
    seed) run the config asks for, or of some conditions' runs, or of one unit's."""
    return [
        relocate(
            config,
            RUN_FILES[name].format(student=s, teacher=t, dataset=d, condition=c, seed=seed),
        )
        for t, d in units(config)
        if teacher in (None, t) and dataset in (None, d)
        for s in config["students"]
        if student in (None, s)
        for c in config["conditions"]
        if conditions is None or c in conditions
        for seed in config["seeds"]
    ]


def predictions(config: Mapping) -> list[str]:
    """Every run's predictions.parquet."""
    return run_files(config, "predictions")


def train_logs(config: Mapping) -> list[str]:
    """Every run's train_log.parquet."""
    return run_files(config, "train_log")


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

    part = LENS_CLAIM.parts[0]
    return run_files(config, "lens", [part.condition, part.reference])


def lens_tables(
    config: Mapping,
    student: str | None = None,
    teacher: str | None = None,
    dataset: str | None = None,
) -> list[str]:
    """Every run's lens.parquet, or one (student, teacher, dataset) unit's."""
    return run_files(config, "lens", student=student, teacher=teacher, dataset=dataset)


def converted_weights(config: Mapping, owner: str, name: str) -> list[str]:
    """The converted safetensors folder a student or teacher loads from, if it needs one."""
    if needs_conversion(model_source(config, owner, name)):
        return [relocate(config, MODEL.format(owner=owner, name=name))]
    return []
