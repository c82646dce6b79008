"""Teacher rationales for one dataset split."""

import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../../src")  # library importable inside conda envs too

from cotdistill.gpus import pin  # noqa: E402
from cotdistill.logs import end_job, job_log, optional_path  # noqa: E402
from cotdistill.stages import make_rationales  # noqa: E402

with job_log(snakemake.log[0]):
    pin(int(getattr(snakemake.resources, "gpu", 0)))  # a device of its own (see gpus.py)
    make_rationales(
        snakemake.params.spec,
        snakemake.input.data,
        snakemake.wildcards.split,
        snakemake.output[0],
        weights=optional_path(snakemake.input.get("weights")),
    )
end_job()  # outputs are written: skip the slow interpreter teardown
