"""One (student, teacher, dataset) unit's lens curves: a line per condition, a band over seeds."""

import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../../src")  # library importable inside conda envs too

from cotdistill.logs import job_log  # noqa: E402
from cotdistill.stages import make_lens_plot  # noqa: E402

with job_log(snakemake.log[0]):
    wc = snakemake.wildcards
    make_lens_plot(
        list(snakemake.input),
        snakemake.output[0],
        f"{wc.student} / {wc.teacher} / {wc.dataset}",
        snakemake.params.condition_order,
    )
