"""Rationales shaded by attribution score, for a sample of examples."""

import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../../src")  # library importable inside conda envs too

from cotdistill.logs import job_log  # noqa: E402
from cotdistill.stages import make_attribution_figure  # noqa: E402

w = snakemake.wildcards
with job_log(snakemake.log[0]):
    make_attribution_figure(
        snakemake.input.scores,
        snakemake.input.rationales,
        snakemake.output[0],
        f"{w.attributor} / {w.teacher} / {w.dataset}",
    )
