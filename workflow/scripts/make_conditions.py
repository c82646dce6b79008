"""Training rows of one condition (one random draw for conditions that draw)."""

import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../../src")  # library importable inside conda envs too

from cotdistill.logs import job_log, optional_path  # noqa: E402
from cotdistill.stages import make_conditions  # noqa: E402

with job_log(snakemake.log[0]):
    make_conditions(
        snakemake.wildcards.condition,
        snakemake.params.spec,
        snakemake.params.only_correct,
        snakemake.input.train,
        snakemake.input.rationales,
        snakemake.output.train,
        scores=optional_path(snakemake.input.scores),
        draw=int(snakemake.wildcards.draw),
    )
