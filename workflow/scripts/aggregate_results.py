"""Accuracy and paired-comparison tables (CSV, Markdown, LaTeX), per-run table and plot."""

import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../../src")  # library importable inside conda envs too

from cotdistill.logs import job_log  # noqa: E402
from cotdistill.aggregate import aggregate  # noqa: E402

with job_log(snakemake.log[0]):
    aggregate(
        snakemake.input.predictions,
        dict(snakemake.output.items()),
        condition_order=snakemake.params.condition_order,
    )
