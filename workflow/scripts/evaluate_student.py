"""Predictions and metrics of one trained student on its condition's test rows, and
(unless the config says lens: false) its lens readouts, from one model load."""

import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../../src")  # library importable inside conda envs too

from cotdistill.gpus import pin  # noqa: E402
from cotdistill.logs import end_job, job_log  # noqa: E402
from cotdistill.stages import LensJob, evaluate_run  # noqa: E402

lens = None
if "lens" in snakemake.output.keys():
    lens = LensJob(snakemake.params.lens, snakemake.input.train, snakemake.output.lens)
with job_log(snakemake.log[0]):
    pin(int(getattr(snakemake.resources, "gpu", 0)))  # a device of its own (see gpus.py)
    evaluate_run(
        snakemake.input.model,
        snakemake.input.test,
        snakemake.params.spec,
        snakemake.output.predictions,
        snakemake.output.metrics,
        threads=snakemake.threads,
        lens=lens,
        condition_train=snakemake.input.train,
        run=dict(snakemake.wildcards.items()),  # stamped on its tables (runs.py)
    )
end_job()  # outputs are written: skip the slow interpreter teardown
