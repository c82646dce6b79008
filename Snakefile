# cotdistill: chain-of-thought-augmented distillation, end to end.
#   snakemake --cores all                              # the offline quickstart (config.yaml)
#   snakemake --cores all --configfile config/X.yaml   # another experiment
import os
import sys

from snakemake.utils import min_version

min_version("9.0")


# --configfile replaces config.yaml instead of being merged into it: an experiment
# config must never inherit the quickstart's datasets, teachers or students.
if not workflow.overwrite_configfiles:
    # a YAML mistake named by file, line and column before Snakemake reads it
    # (snakemake reads a --configfile itself, before this file: `python -m cotdistill.check FILE`)
    sys.path.insert(0, os.path.join(workflow.basedir, "src"))
    from cotdistill.config import load_yaml

    load_yaml("config.yaml")

    configfile: "config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/models.smk"
include: "workflow/rules/teacher.smk"
include: "workflow/rules/attribution.smk"
include: "workflow/rules/conditions.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/lens.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/sweeps.smk"


rule all:
    default_target: True
    input:
        targets.final(config),
