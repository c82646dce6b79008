"""Fine-tune one student on one condition with one seed."""

import sys
from pathlib import Path

sys.path.insert(0, f"{snakemake.scriptdir}/../../src")  # library importable inside conda envs too

from cotdistill.gpus import pin  # noqa: E402
from cotdistill.logs import end_job, job_log  # noqa: E402
from cotdistill.stages import train_run  # noqa: E402

# How often to checkpoint changes no result, so it is read here and not a rule param
# (a param change would retrain every run). A killed attempt left its checkpoint
# beside the model folder, which Snakemake does not clear before the rerun.
with job_log(snakemake.log[0]):
    pin(int(getattr(snakemake.resources, "gpu", 0)))  # a device of its own (see gpus.py)
    train_run(
        snakemake.input.base,
        snakemake.input.rows,
        snakemake.params.spec,
        int(snakemake.wildcards.seed),
        snakemake.output.model,
        snakemake.output.log,
        threads=snakemake.threads,
        checkpoint_dir=str(Path(snakemake.output.model).parent / "checkpoint"),
        checkpoint_every=snakemake.config["checkpoint_every"],  # filled from the schema
        run=dict(snakemake.wildcards.items()),  # stamped on its tables (runs.py)
    )
end_job()  # outputs are written: skip the slow interpreter teardown
