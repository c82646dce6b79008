"""results/summary.md: a verdict on each claim of the study, with the numbers behind it."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../../src")  # library importable inside conda envs too

from cotdistill.logs import job_log  # noqa: E402
from cotdistill.stages import make_summary  # noqa: E402

with job_log(snakemake.log[0]):
    make_summary(snakemake.input.comparisons, snakemake.input.emergence or None,
                 snakemake.params.metric, snakemake.params.margin, snakemake.params.datasets,
                 snakemake.output.md, snakemake.output.csv, snakemake.output.html,
                 data=list(snakemake.input.data))
