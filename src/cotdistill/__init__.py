"""cotdistill: chain-of-thought-augmented distillation experiments as a Snakemake workflow."""

__version__ = "0.1.0"
