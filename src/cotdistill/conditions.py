"""Experimental conditions: how the label and the rationale make a training target.

A condition is a pure function ``(example, rng, **params) -> target`` registered
under a name. The prompt is shared by all conditions (so test prompts are
identical across conditions). Adding a condition is one function plus one
``@register`` line; no workflow rule changes, because rules only see names.

Rationales are split on whitespace ("words"); student-token-level variants need
the student's tokenizer and belong to a later stage.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import pandas as pd

from .data.schema import letters
from .errors import ConfigError

ANSWER_MARK = "Answer:"
REASON_MARK = "Reason:"


@dataclass(frozen=True)
class Example:
    """What a condition may look at for one training question."""

    id: str
    question: str
    choices: Sequence[str]
    label: str
    rationale: str
    key_word_idx: Sequence[int] | None = None  # known key words (synthetic teacher, later: IG)
    other_rationale: str | None = None          # a different example's rationale

    @property
    def words(self) -> list[str]:
        return self.rationale.split()


@dataclass(frozen=True)
class Condition:
    name: str
    target: Callable[..., str]
    rationale_first: bool  # the student writes a rationale before the label at test time
    defaults: Mapping[str, Any] = field(default_factory=dict)
    needs_key_words: bool = False  # reads Example.key_word_idx


REGISTRY: dict[str, Condition] = {}


def register(name: str, *, rationale_first: bool = False, needs_key_words: bool = False,
             **defaults: Any):
    def deco(fn: Callable[..., str]) -> Callable[..., str]:
        REGISTRY[name] = Condition(name, fn, rationale_first, defaults, needs_key_words)
        return fn
    return deco


def format_prompt(question: str, choices: Sequence[str]) -> str:
    opts = " ".join(f"({l}) {c}" for l, c in zip(letters(len(choices)), choices))
    return f"Question: {question}\nChoices: {opts}\n"


def answer(label: str) -> str:
    return f"{ANSWER_MARK} {label}"


def after(label: str, text: str) -> str:
    return f"{answer(label)}\n{REASON_MARK} {text}"


def before(label: str, text: str) -> str:
    return f"{REASON_MARK} {text}\n{answer(label)}"


def shuffled_words(words: Sequence[str], rng: random.Random) -> str:
    words = list(words)
    rng.shuffle(words)
    return " ".join(words)


# ---- the registered conditions ------------------------------------------------

@register("label_only")
def label_only(ex: Example, rng: random.Random) -> str:
    return answer(ex.label)


@register("cot_before", rationale_first=True)
def cot_before(ex: Example, rng: random.Random) -> str:
    return before(ex.label, ex.rationale)


@register("cot_after")
def cot_after(ex: Example, rng: random.Random) -> str:
    return after(ex.label, ex.rationale)


@register("shuffled_before", rationale_first=True)
def shuffled_before(ex: Example, rng: random.Random) -> str:
    return before(ex.label, shuffled_words(ex.words, rng))


@register("shuffled_after")
def shuffled_after(ex: Example, rng: random.Random) -> str:
    return after(ex.label, shuffled_words(ex.words, rng))


@register("keytokens_after", needs_key_words=True, k=None)
def keytokens_after(ex: Example, rng: random.Random, k: int | None = None) -> str:
    """The rationale's key words in their original order (all known keys, or the first k)."""
    if ex.key_word_idx is None:
        raise ConfigError("conditions.keytokens_after", f"example {ex.id} has no key-word indices",
                          "use a teacher that records key words (rule_based) or add attribution")
    idx = sorted(ex.key_word_idx)[: k if k else None]
    return after(ex.label, " ".join(ex.words[i] for i in idx))


@register("randomtokens_after", k=5)
def randomtokens_after(ex: Example, rng: random.Random, k: int = 5) -> str:
    """k random rationale words in original order: the key-token budget without selection."""
    words = ex.words
    idx = sorted(rng.sample(range(len(words)), min(k, len(words))))
    return after(ex.label, " ".join(words[i] for i in idx))


@register("filler_after", k=5, filler="...")
def filler_after(ex: Example, rng: random.Random, k: int = 5, filler: str = "...") -> str:
    """k filler words after the label: extra target length with no content."""
    return after(ex.label, " ".join([filler] * k))


@register("other_rationale_after")
def other_rationale_after(ex: Example, rng: random.Random) -> str:
    """Another example's rationale: is the content example-specific?"""
    return after(ex.label, ex.other_rationale or "")


# ---- building a condition's tables ---------------------------------------------

def resolve(name: str, spec: Mapping[str, Any] | None) -> tuple[Condition, dict]:
    """The registered condition and its params for config entry ``name: spec``."""
    spec = dict(spec or {})
    fn_name = spec.pop("function", name)
    spec.pop("seed", None)
    if fn_name not in REGISTRY:
        raise ConfigError(f"conditions.{name}", f"'{fn_name}' is not a registered condition",
                          f"set 'function:' to one of {sorted(REGISTRY)}")
    cond = REGISTRY[fn_name]
    unknown = set(spec) - set(cond.defaults)
    if unknown:
        raise ConfigError(f"conditions.{name}", f"unknown parameter(s) {sorted(unknown)}",
                          f"'{fn_name}' takes {sorted(cond.defaults) or 'no parameters'}")
    return cond, {**cond.defaults, **spec}


def _other_rationales(ids: Sequence[str], rationales: Sequence[str], seed: int) -> list[str]:
    """A seeded derangement: every example gets a rationale of a different example."""
    n = len(ids)
    if n < 2:
        return list(rationales)
    order = list(range(n))
    random.Random(f"other-{seed}").shuffle(order)
    shift = {order[i]: order[(i + 1) % n] for i in range(n)}  # one cycle: no fixed points
    return [rationales[shift[i]] for i in range(n)]


def build_train(name: str, spec: Mapping[str, Any] | None, data: pd.DataFrame,
                rationales: pd.DataFrame, only_correct: bool = False) -> pd.DataFrame:
    """Training rows ``id, prompt, target, label`` of one condition.

    Every condition trains on the same ids: those with a rationale (and, with
    ``only_correct``, a teacher-correct one), so conditions differ in the target only.
    """
    cond, params = resolve(name, spec)
    seed = int((spec or {}).get("seed", 0))
    merged = data.merge(rationales, on="id", how="inner", validate="one_to_one")
    if only_correct:
        merged = merged[merged["teacher_correct"].astype(bool)]
    others = _other_rationales(list(merged["id"]), list(merged["rationale"]), seed)
    rows = []
    for rec, other in zip(merged.to_dict("records"), others):
        key_idx = rec.get("key_word_idx")
        ex = Example(id=rec["id"], question=rec["question"], choices=list(rec["choices"]),
                     label=rec["label"], rationale=rec["rationale"],
                     key_word_idx=None if key_idx is None else list(key_idx),
                     other_rationale=other)
        rng = random.Random(f"{seed}-{name}-{ex.id}")  # per example: stable under subsetting
        rows.append({"id": ex.id, "prompt": format_prompt(ex.question, ex.choices),
                     "target": cond.target(ex, rng, **params), "label": ex.label,
                     "choices": list(ex.choices)})
    return pd.DataFrame(rows, columns=["id", "prompt", "target", "label", "choices"])


def build_test(data: pd.DataFrame) -> pd.DataFrame:
    """Evaluation rows ``id, prompt, label, choices``: the same for every condition."""
    return pd.DataFrame({"id": data["id"],
                         "prompt": [format_prompt(q, c) for q, c in zip(data["question"], data["choices"])],
                         "label": data["label"], "choices": data["choices"]})
