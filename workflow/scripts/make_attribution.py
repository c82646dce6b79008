"""Attribution scores of one (attributor, teacher, dataset)."""

import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../../src")  # library importable inside conda envs too

from cotdistill.gpus import pin  # noqa: E402
from cotdistill.logs import end_job, job_log, optional_path  # noqa: E402
from cotdistill.stages import make_attribution  # noqa: E402

with job_log(snakemake.log[0]):
    pin(int(getattr(snakemake.resources, "gpu", 0)))  # a device of its own (see gpus.py)
    make_attribution(
        snakemake.params.spec,
        snakemake.input.train,
        snakemake.input.rationales,
        snakemake.output[0],
        model_dir=optional_path(snakemake.input.model),
        threads=snakemake.threads,
    )
end_job()  # outputs are written: skip the slow interpreter teardown
