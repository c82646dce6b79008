"""A model's GGUF source dequantised once into a plain safetensors folder."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../../src")  # library importable inside conda envs too

from cotdistill.logs import job_log  # noqa: E402
from cotdistill.stages import convert_model  # noqa: E402

with job_log(snakemake.log[0]):
    convert_model(snakemake.params.spec, snakemake.output[0])
