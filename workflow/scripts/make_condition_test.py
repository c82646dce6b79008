"""Test rows of one condition (the shared prompts, and whether it writes a rationale first)."""

import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../../src")  # library importable inside conda envs too

from cotdistill.logs import job_log  # noqa: E402
from cotdistill.stages import make_condition_test  # noqa: E402

with job_log(snakemake.log[0]):
    make_condition_test(
        snakemake.wildcards.condition,
        snakemake.params.rationale_first,
        snakemake.input.train,
        snakemake.input.test,
        snakemake.output.test,
        allow_overlap=snakemake.params.allow_overlap,
    )
