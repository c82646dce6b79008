"""A model's GGUF source dequantised once into a plain safetensors folder."""

import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../../src")  # library importable inside conda envs too

from cotdistill.gpus import pin  # noqa: E402
from cotdistill.logs import end_job, job_log  # noqa: E402
from cotdistill.stages import convert_model  # noqa: E402

with job_log(snakemake.log[0]):
    pin(int(getattr(snakemake.resources, "gpu", 0)))  # a device of its own (see gpus.py)
    convert_model(snakemake.params.spec, snakemake.output[0])
end_job()  # outputs are written: skip the slow interpreter teardown
