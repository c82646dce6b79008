# Config validation (before any job runs), wildcard constraints and target lists.
import os
import sys

sys.path.insert(0, os.path.join(workflow.basedir, "src"))  # the library, installed or not

from cotdistill.config import (
    check_config,
    student_base_spec,
    teacher_spec,
    training_spec,
    units,
)

check_config(
    config, os.path.join(workflow.basedir, "workflow", "schemas", "config.schema.yaml")
)

NAME = r"[A-Za-z0-9_.\-]+"


wildcard_constraints:
    dataset=NAME,
    teacher=NAME,
    student=NAME,
    condition=NAME,
    seed=r"\d+",
    split="train|test",


RUN = "results/runs/{student}/{teacher}/{dataset}/{condition}/seed{seed}"


def threads_for(family, default=1):
    return int(config.get("threads", {}).get(family, default))


def resources_for(family):
    """Cluster resources of a rule family from config 'resources:' (empty locally)."""
    return dict(config.get("resources", {}).get(family, {}))


def run_dirs():
    return [
        RUN.format(student=s, teacher=t, dataset=d, condition=c, seed=seed)
        for t, d in units(config)
        for s in config["students"]
        for c in config["conditions"]
        for seed in config["seeds"]
    ]


def final_targets():
    return [
        "results/tables/accuracy.csv",
        "results/tables/accuracy.md",
        "results/tables/runs.csv",
        "results/plots/accuracy.png",
    ]
