"""results/summary.md: a verdict on each claim of the study, with the numbers behind it,
and what the students were trained on."""

import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../../src")  # library importable inside conda envs too

from cotdistill.logs import job_log  # noqa: E402
from cotdistill.stages import make_summary  # noqa: E402

with job_log(snakemake.log[0]):
    make_summary(
        list(snakemake.input.predictions),
        snakemake.params.verdicts,
        snakemake.params.datasets,
        snakemake.output.md,
        snakemake.output.csv,
        snakemake.output.html,
        emergence=snakemake.input.emergence or None,
        lens=list(snakemake.input.lens),
        train_logs=list(snakemake.input.train_logs),
        condition_tables=list(snakemake.input.conditions),
        rationales=list(snakemake.input.rationales),
        data=list(snakemake.input.data),
    )
