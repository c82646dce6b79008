"""The teacher interface and the post-processing every backend shares."""

from __future__ import annotations

import inspect
import json
from typing import Any, Callable, Mapping

import pandas as pd

from ..errors import ConfigError
from .answers import parse_stated_answer, strip_stated_answer

STRIP_ANSWER = "strip_answer"  # an option of every backend (see ``finalise``)
RATIONALE_COLUMNS = [
    "id",
    "rationale",
    "teacher_answer",
    "teacher_correct",
    "prompt_hash",
    "gen_params",
]


class Teacher:
    """A rationale writer. Subclasses implement :meth:`rationales`.

    ``rationales(data, split)`` gets one normalised split and returns a frame
    with at least ``id`` and ``rationale``; it may add ``teacher_answer``
    (letter), ``prompt_hash``, ``gen_params`` and ``key_word_idx``. Backends
    that generate keep resumable shards in ``self.shard_dir`` when it is set.
    """

    shard_dir: str | None = None
    provides_key_words = False  # writes ``key_word_idx``: ground truth, a "known" score source
    model_is_served = False  # ``model`` names a server's model, not weights loaded here

    def __init__(self, **params: Any):
        self.params = params

    @classmethod
    def option_problems(cls, options: Mapping[str, Any]) -> list[str]:
        """Config problems of this backend's options, as (key, problem, fix) triples
        rendered by the caller. The default checks names against ``__init__``."""
        sig = inspect.signature(cls.__init__)
        params = {n: p for n, p in sig.parameters.items() if n != "self"}
        if any(p.kind is p.VAR_KEYWORD for p in params.values()):
            return []
        problems = []
        for key in options:
            if key not in params:
                problems.append((key, "unknown option", f"use one of {sorted(params)}"))
        for name, p in params.items():
            if p.default is p.empty and name not in options:
                problems.append((name, "missing", "add it (see the backend's docstring)"))
        return problems

    @classmethod
    def dataset_problem(cls, dataset: Mapping[str, Any]) -> tuple[str, str] | None:
        """(problem, fix) when this backend cannot write rationales for a dataset with
        this config entry, caught before any job; None when it can (the default)."""
        return None

    def rationales(self, data: pd.DataFrame, split: str) -> pd.DataFrame:
        """One rationale per row of ``data`` (see the class docstring)."""
        raise NotImplementedError


_BACKENDS: dict[str, type[Teacher]] = {}


def register_backend(name: str) -> Callable[[type[Teacher]], type[Teacher]]:
    """Register the decorated Teacher class as backend ``name``."""

    def deco(cls: type[Teacher]) -> type[Teacher]:
        _BACKENDS[name] = cls
        return cls

    return deco


def backends() -> list[str]:
    """The registered backend names."""
    return sorted(_BACKENDS)


def make_teacher(spec: Mapping[str, Any]) -> Teacher:
    """Build the teacher a config entry describes: ``{backend: NAME, ...params}``."""
    spec = dict(spec)
    backend = spec.pop("backend", None)
    if backend not in _BACKENDS:
        raise ConfigError(
            "teachers.*.backend", f"unknown backend '{backend}'", f"use one of {backends()}"
        )
    return _BACKENDS[backend](**spec)


def finalise(data: pd.DataFrame, raw: pd.DataFrame, strip_answer: bool = False) -> pd.DataFrame:
    """Add parsed answers and correctness; keep only ids of ``data``, in its order.

    ``strip_answer``: remove a statement of the answer at the rationale's start or end
    (``answers.strip_stated_answer``) after the answer is parsed from it, so that key
    tokens are chosen among the reasoning words and a rationale before the label does
    not state the label first; ``answer_stripped`` says which rows changed."""
    if strip_answer and "key_word_idx" in raw.columns:
        raise ConfigError(
            "teachers.*.strip_answer",
            "this teacher's rationales index their key words, which removing words would break",
            "remove strip_answer from this teacher",
        )
    raw = raw.drop_duplicates("id", keep="first").set_index("id")
    rows = []
    for ex in data.itertuples(index=False):
        if ex.id not in raw.index:
            continue
        r = raw.loc[ex.id]
        rationale = str(r["rationale"])
        answer = r.get("teacher_answer")
        if not isinstance(answer, str) or not answer:
            answer = parse_stated_answer(rationale, list(ex.choices))
        stripped = strip_stated_answer(rationale) if strip_answer else rationale
        row = {
            "id": ex.id,
            "rationale": stripped,
            "teacher_answer": answer,
            "teacher_correct": answer == ex.label,
            "prompt_hash": str(r.get("prompt_hash") or ""),
            "gen_params": r.get("gen_params")
            if isinstance(r.get("gen_params"), str)
            else json.dumps(r.get("gen_params") or {}, sort_keys=True),
        }
        if "key_word_idx" in raw.columns:
            row["key_word_idx"] = list(r["key_word_idx"])
        if strip_answer:
            row["answer_stripped"] = stripped != rationale.strip()
        rows.append(row)
    cols = (
        RATIONALE_COLUMNS
        + (["key_word_idx"] if "key_word_idx" in raw.columns else [])
        + (["answer_stripped"] if strip_answer else [])
    )
    return pd.DataFrame(rows, columns=cols)


def backend_class(name: str) -> type[Teacher] | None:
    """The Teacher class of a backend name, or None."""
    return _BACKENDS.get(name)


def run_teacher(
    spec: Mapping[str, Any], data: pd.DataFrame, split: str, shard_dir: str | None = None
) -> pd.DataFrame:
    """Rationales for one split in the shared schema (see :data:`RATIONALE_COLUMNS`).
    ``strip_answer`` (any backend) is applied here, after the backend wrote them."""
    spec = dict(spec)
    strip_answer = bool(spec.pop(STRIP_ANSWER, False))
    teacher = make_teacher(spec)
    teacher.shard_dir = shard_dir
    raw = teacher.rationales(data, split)
    out = finalise(data, raw, strip_answer=strip_answer)
    out.attrs.update(raw.attrs)  # what a backend reports of itself (a file's match counts)
    return out
