"""Precision@k of every score source against known key words, beside random picks, and
how often its top words restate the answer."""

import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../../src")  # library importable inside conda envs too

from cotdistill.logs import job_log  # noqa: E402
from cotdistill.stages import make_attribution_table  # noqa: E402

with job_log(snakemake.log[0]):
    make_attribution_table(
        snakemake.params.units,
        snakemake.input.scores,
        snakemake.input.rationales,
        snakemake.output.csv,
        snakemake.output.md,
        snakemake.output.html,
        data=snakemake.input.data,
    )
