"""Fine-tune one student on one condition with one seed."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../../src")  # library importable inside conda envs too

from cotdistill.logs import end_job, job_log  # noqa: E402
from cotdistill.stages import train_run  # noqa: E402

with job_log(snakemake.log[0]):
    train_run(snakemake.input.base, snakemake.input.rows, snakemake.params.spec,
              int(snakemake.wildcards.seed), snakemake.output.model, snakemake.output.log,
              threads=snakemake.threads)
end_job()  # outputs are written: skip the slow interpreter teardown
