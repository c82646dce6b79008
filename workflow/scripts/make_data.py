"""Normalised Parquet table of one dataset split."""

import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../../src")  # library importable inside conda envs too

from cotdistill.logs import job_log  # noqa: E402
from cotdistill.stages import make_data  # noqa: E402

with job_log(snakemake.log[0]):
    make_data(snakemake.params.spec, snakemake.wildcards.split, snakemake.output[0])
