"""Datasets in one normalised schema: id, question, choices, label, answer."""

from .schema import COLUMNS, letters, normalise_records
from .loaders import load_dataset_split

__all__ = ["COLUMNS", "letters", "normalise_records", "load_dataset_split"]
