"""Load multiple-choice datasets from official JSONL files or the Hugging Face hub.

Two row schemas are understood and mapped to the normalised one:

* official (CommonsenseQA, OpenBookQA releases):
  ``{"id", "question": {"stem", "choices": [{"label", "text"}]}, "answerKey"}``
* hub (``datasets``): ``choices`` as ``{"label": [...], "text": [...]}`` with the
  question as ``question`` (CommonsenseQA) or ``question_stem`` (OpenBookQA);
  QuaRel embeds its choices in the question text, ``"... (A) x (B) y"``, with
  ``answer_index``.
"""

from __future__ import annotations

import json
import logging
import random
import re
from pathlib import Path
from typing import Any, Callable, Mapping

import pandas as pd

from ..errors import ConfigError, InputError
from .schema import letters, normalise_records, repeated_choices

log = logging.getLogger(__name__)
# the schema's datasets.* defaults (tests/test_defaults.py holds them equal)
REPEATED_CHOICES = "skip"
SUBSET_DEFAULTS = {"seed": 0}
_EMBEDDED_CHOICE = re.compile(r"\(([A-Z])\)\s*(.*?)\s*(?=\([A-Z]\)|$)")


def _positional_label(labels: list[str], gold: Any, path: str, row: int) -> str:
    """Map a file's own choice labels (A/B/.. or 1/2/..) to positional letters."""
    labels = [str(x).strip() for x in labels]
    gold = str(gold).strip()
    if gold not in labels:
        raise InputError(
            path,
            row,
            f"answer key '{gold}' is not among the choice labels {labels}",
            "fix the answer key or the choice labels of this row",
        )
    return letters(len(labels))[labels.index(gold)]


def map_official_row(row: Mapping, path: str, i: int) -> dict:
    """One official-schema row (``question: {stem, choices}``) in the normalised schema."""
    q = row.get("question")
    if not isinstance(q, Mapping) or "stem" not in q or "choices" not in q:
        raise InputError(
            path,
            i,
            "expected 'question' with 'stem' and 'choices' (official schema)",
            "convert the row to the official schema or to the hub schema",
        )
    choices = q["choices"]
    return {
        "id": row.get("id"),
        "question": q["stem"],
        "choices": [c["text"] for c in choices],
        "label": _positional_label([c["label"] for c in choices], row.get("answerKey"), path, i),
    }


def map_hub_row(row: Mapping, path: str, i: int) -> dict:
    """Hub schemas of CommonsenseQA, OpenBookQA and QuaRel."""
    if "answer_index" in row and isinstance(row.get("question"), str):  # QuaRel
        stem, _, tail = row["question"].partition("(A)")
        found = _EMBEDDED_CHOICE.findall("(A)" + tail)
        if len(found) < 2:
            raise InputError(
                path,
                i,
                "could not find '(A) ... (B) ...' choices in the question",
                "QuaRel rows must embed their choices in the question text",
            )
        choices = [text for _, text in found]
        idx = int(row["answer_index"])
        if not 0 <= idx < len(choices):
            raise InputError(path, i, f"answer_index {idx} out of range", "fix answer_index")
        return {
            "id": row.get("id"),
            "question": stem.strip(),
            "choices": choices,
            "label": letters(len(choices))[idx],
        }
    choices = row.get("choices")
    if not isinstance(choices, Mapping) or "text" not in choices or "label" not in choices:
        raise InputError(
            path,
            i,
            "expected 'choices' as {label: [...], text: [...]} (hub schema)",
            "convert the row to the hub or the official schema",
        )
    question = row.get("question_stem", row.get("question"))
    return {
        "id": row.get("id"),
        "question": question,
        "choices": list(choices["text"]),
        "label": _positional_label(list(choices["label"]), row.get("answerKey"), path, i),
    }


def map_any_row(row: Mapping, path: str, i: int) -> dict:
    """Detect the row's schema (official or hub) and map it."""
    if isinstance(row.get("question"), Mapping):
        return map_official_row(row, path, i)
    return map_hub_row(row, path, i)


def read_jsonl(path: str | Path) -> list[tuple[int, dict]]:
    """(line number as an editor counts it, object) for every non-blank line.

    Raises :class:`InputError` naming the line for bytes that are not UTF-8, a
    line that is not JSON, and JSON that is not one object (an array, a number).
    """
    path = Path(path)
    if not path.exists():
        raise InputError(
            str(path),
            None,
            "file not found",
            "check the path in the config (relative paths are from the working directory)",
        )
    rows = []
    with open(path, "rb") as f:
        for i, raw in enumerate(f, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise InputError(
                    str(path),
                    i,
                    f"bytes that are not UTF-8 (byte {e.start + 1} "
                    f"of the line: {raw[e.start : e.start + 4]!r})",
                    "save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)",
                ) from e
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise InputError(
                    str(path),
                    i,
                    f"not valid JSON ({e.msg} at column {e.colno})",
                    "each line must be one JSON object",
                ) from e
            if not isinstance(obj, dict):
                raise InputError(
                    str(path),
                    i,
                    f"a JSON {type(obj).__name__}, not an object",
                    "each line must be one JSON object {...}, not a JSON array or a value",
                )
            rows.append((i, obj))
    return rows


def load_jsonl(path: str | Path) -> pd.DataFrame:
    """Any dataset in the official or hub JSONL schema; rows are named by file line."""
    rows = read_jsonl(path)
    mapped = [map_any_row(r, str(path), i) for i, r in rows]
    return normalise_records(mapped, str(path), lines=[i for i, _ in rows])


def load_hub(
    name: str, split: str, hub_config: str | None = None, loader: Callable[..., Any] | None = None
) -> pd.DataFrame:
    """A dataset by hub name through ``datasets.load_dataset`` (needs network or a cache)."""
    if loader is None:
        from datasets import load_dataset as loader  # imported lazily: slow import
    ds = loader(name, hub_config, split=split)
    source = f"hub:{name}" + (f"/{hub_config}" if hub_config else "") + f"[{split}]"
    mapped = [map_hub_row(r, source, i) for i, r in enumerate(ds, start=1)]
    return normalise_records(mapped, source)


def subsample(df: pd.DataFrame, n: int | None, seed: int) -> pd.DataFrame:
    """A seeded random subset of ``n`` rows, kept in file order."""
    if n is None or n >= len(df):
        return df
    idx = sorted(random.Random(seed).sample(range(len(df)), n))
    return df.iloc[idx].reset_index(drop=True)


def load_dataset_split(spec: Mapping, split: str) -> pd.DataFrame:
    """Load one split of a dataset described by its config entry ``spec``."""
    source = spec["source"]
    if source == "synthetic":
        from .synthetic import generate_split

        df = generate_split(split, **spec.get("params", {}))
    elif source == "jsonl":
        files = spec.get("files", {})
        if split not in files:
            raise ConfigError(
                f"datasets.*.files.{split}",
                "no file for this split",
                f"add 'files: {{{split}: PATH}}'",
            )
        df = load_jsonl(files[split])
    elif source == "hub":
        splits = spec.get("splits", {})
        df = load_hub(spec["name"], splits.get(split, split), spec.get("hub_config"))
    else:
        raise ConfigError(
            "datasets.*.source", f"unknown source '{source}'", "use one of: synthetic, jsonl, hub"
        )
    return select_rows(df, spec, split)


def select_rows(df: pd.DataFrame, spec: Mapping, split: str) -> pd.DataFrame:
    """The rows of a loaded split that the config keeps: its subset, then the
    repeated-choice policy."""
    subset = {**SUBSET_DEFAULTS, **(spec.get("subset") or {})}
    df = subsample(df, subset.get(split), subset["seed"])
    policy = spec.get("repeated_choices", REPEATED_CHOICES)
    return handle_repeated_choices(df, policy, _source(spec, split))


def _source(spec: Mapping, split: str) -> str:
    return str((spec.get("files") or {}).get(split) or spec.get("name") or spec["source"])


def handle_repeated_choices(df: pd.DataFrame, policy: str, source: str) -> pd.DataFrame:
    """Rows with two identical choice texts: ``skip`` drops them (counted in the
    log and in ``df.attrs["skipped"]``, which the data table's provenance keeps),
    ``error`` stops at the first, ``keep`` keeps them. Skipping happens after
    the subset is drawn, so the other sampled rows stay the same."""
    found = [(k, pair) for k, pair in enumerate(df["choices"].map(repeated_choices)) if pair]
    if not found or policy == "keep":
        return df
    k, (a, b) = found[0]
    if policy == "error":
        raise InputError(
            source,
            None,
            f"row with id {df['id'].iloc[k]}: choices {a} and {b} are the same text",
            "fix the row, or set the dataset's repeated_choices: skip (drop such rows) or keep",
        )
    ids = [str(df["id"].iloc[k]) for k, _ in found]
    log.warning(
        "%s: skipped %d of %d rows with two identical choice texts (first ids: %s); "
        "set repeated_choices: keep to keep them",
        source,
        len(ids),
        len(df),
        ids[:5],
    )
    out = df.drop(index=df.index[[k for k, _ in found]]).reset_index(drop=True)
    out.attrs["skipped"] = {"repeated_choices": len(ids), "ids": ids}
    return out
