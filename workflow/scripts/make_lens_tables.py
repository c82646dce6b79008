"""Per-layer lens curves of every run and the layer where each condition's answer emerges."""

import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../../src")  # library importable inside conda envs too

from cotdistill.logs import job_log  # noqa: E402
from cotdistill.stages import make_lens_tables  # noqa: E402

with job_log(snakemake.log[0]):
    make_lens_tables(
        list(snakemake.input),
        snakemake.params.fraction,
        snakemake.output.curves,
        snakemake.output.csv,
        snakemake.output.md,
        snakemake.params.condition_order,
        snakemake.output.html,
    )
