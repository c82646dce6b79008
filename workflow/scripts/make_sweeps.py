"""Sweep tables and curve plots: accuracy over each sweep's budget."""

import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../../src")  # library importable inside conda envs too

from cotdistill.logs import job_log  # noqa: E402
from cotdistill.stages import make_sweeps  # noqa: E402

with job_log(snakemake.log[0]):
    out = {k: getattr(snakemake.output, k) for k in ("csv", "md", "html")}
    plots = dict(zip(map(tuple, snakemake.params.units), snakemake.output.plots))
    make_sweeps(
        list(snakemake.input.predictions),
        list(snakemake.input.conditions),
        snakemake.params.points,
        snakemake.params.verdicts,
        out,
        plots,
    )
