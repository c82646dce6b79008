# Config validation (before any job runs), wildcard constraints and target lists.
import os
import sys

sys.path.insert(0, os.path.join(workflow.basedir, "src"))  # the library, installed or not

from cotdistill import experiments, sweeps, targets
from cotdistill import resources as job_resources
from cotdistill.inputs import check_inputs, check_offline_models, check_servers
from cotdistill.config import (
    attribution_spec,
    check_config,
    fill_defaults,
    dataset_split_files,
    dataset_split_spec,
    lens_emergence,
    lens_enabled,
    lens_run_spec,
    model_source,
    results_dir,
    student_base_spec,
    teacher_spec,
    teacher_split_files,
    training_spec,
    units,
    verdicts_spec,
)

SCHEMA = os.path.join(workflow.basedir, "workflow", "schemas", "config.schema.yaml")
check_config(config, SCHEMA)
fill_defaults(config, SCHEMA)  # top-level settings left out take the schema's defaults
# a sweep's values become ordinary conditions (BASE@PARAM=VALUE) that every rule sees
config["conditions"] = sweeps.expand(config)
# every dataset, rationale file and model path, before any job (passed checks of
# unchanged files are remembered, so a dry run rereads only what was edited)
check_inputs(config, cache=os.path.join(".snakemake", "cotdistill", "input-checks.json"))

# every output goes under the config's own results folder (``results:``)
RESULTS = results_dir(config)
CONFIG_FILES = [str(f) for f in workflow.overwrite_configfiles] or ["config.yaml"]
experiments.check_results_owner(RESULTS, CONFIG_FILES)  # another config's results: stop here


def R(path):
    """A path pattern of targets.py under the config's own results folder."""
    return targets.relocate(config, path)


RUN_KEY = targets.RUN_KEY


def log_of(rule, key=""):
    """The job's log: results/logs/<rule>/<key>.log (``key``: its wildcards)."""
    return R(targets.job_files(rule, key)[0])


def benchmark_of(rule, key=""):
    """The job's benchmark: results/benchmarks/<rule>/<key>.tsv."""
    return R(targets.job_files(rule, key)[1])


def run_weights(path):
    """A run's trained weights: deleted once every job that reads them (evaluate, which
    also reads the lens, and attribution) is done, unless the config says ``keep_weights: true``."""
    return directory(path) if config["keep_weights"] else temp(directory(path))


def rule_threads(rule):
    return job_resources.threads(config, rule)


def rule_resources(rule):
    """Defaults sized for a small config, then the config's ``resources: {rule: ...}``;
    a profile's ``set-resources`` (same rule names) overrides both."""
    return job_resources.resources(config, rule)


def scratch_only(wc, pattern):
    """``pattern`` filled for a scratch student, nothing for a pretrained one."""
    if config["students"][wc.student].get("kind") != "scratch_gpt2":
        return []
    return pattern.format(dataset=wc.dataset, teacher=wc.teacher)


onstart:  # real runs only: a dry run may plan models this machine has not got
    check_offline_models(config)
    # an openai teacher's server must answer, unless its rationales are all written
    check_servers(
        config,
        done=lambda t, d: os.path.exists(R(targets.RATIONALES.format(teacher=t, dataset=d))),
    )
    experiments.claim(RESULTS, CONFIG_FILES)


NAME = r"[A-Za-z0-9_.\-]+"


wildcard_constraints:
    dataset=NAME,
    teacher=NAME,
    student=NAME,
    condition=sweeps.CONDITION_NAME,
    seed=r"\d+",
    split="train|test",
    owner="students|teachers|attributors",
    attributor=NAME,
