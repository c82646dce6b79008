"""A student's base folder: tokenizer and architecture (or the pretrained tokenizer)."""

import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../../src")  # library importable inside conda envs too

from cotdistill.logs import end_job, job_log, optional_path  # noqa: E402
from cotdistill.stages import make_student_base  # noqa: E402

with job_log(snakemake.log[0]):
    make_student_base(
        snakemake.params.spec,
        optional_path(snakemake.input.train),
        optional_path(snakemake.input.rationales),
        snakemake.output[0],
        weights=optional_path(snakemake.input.get("weights")),
    )
end_job()  # outputs are written: skip the slow interpreter teardown
