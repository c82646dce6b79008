"""A generated multiple-choice dataset where rationales carry information.

Each of ``n_entities`` made-up entities has hidden integer attributes (weight,
height). A question compares two entities on one attribute:
``"is zab heavier or lighter than kol ?"`` with choices ``(A) heavier (B) lighter``.
The label reveals one bit about the hidden values; the teacher's rationale
states both values and the rule, so a student can learn the entity-to-value
facts, which generalise to pairs it never saw. Test questions use entity
pairs that occur in no training question (in either order).

``key_facts`` (JSON) records per row the attribute and the two values: the
ground truth for which rationale tokens matter, used to score attribution.
"""

from __future__ import annotations

import itertools
import json
import random

import pandas as pd

from .schema import normalise_records

ATTRIBUTES = {  # attribute -> (verb for the rationale, word for more, word for less)
    "weight": ("weighs", "heavier", "lighter"),
    "height": ("measures", "taller", "shorter"),
}
_ONSETS = ["b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z"]
_VOWELS = ["a", "e", "i", "o", "u"]
_CODAS = ["b", "d", "g", "k", "l", "m", "n", "p", "r", "s", "t", "x"]


def entity_names(n: int, rng: random.Random) -> list[str]:
    """``n`` distinct made-up names (onset, vowel, coda)."""
    pool = sorted({o + v + c for o in _ONSETS for v in _VOWELS for c in _CODAS})
    return rng.sample(pool, n)


def world(n_entities: int, seed: int, max_value: int = 99) -> dict[str, dict[str, int]]:
    """Entity -> attribute -> value in 1..max_value, distinct per attribute (no ties)."""
    if max_value < n_entities:
        raise ValueError(
            f"max_value={max_value} < n_entities={n_entities}: values must be distinct"
        )
    rng = random.Random(f"world-{seed}")
    names = entity_names(n_entities, rng)
    values = {a: rng.sample(range(1, max_value + 1), n_entities) for a in ATTRIBUTES}
    return {name: {a: values[a][i] for a in ATTRIBUTES} for i, name in enumerate(names)}


def _question(a: str, b: str, attribute: str, facts: dict[str, dict[str, int]], qid: str) -> dict:
    _, more, less = ATTRIBUTES[attribute]
    return {
        "id": qid,
        "question": f"is {a} {more} or {less} than {b} ?",
        "choices": [more, less],
        "label": "A" if facts[a][attribute] > facts[b][attribute] else "B",
        "key_facts": json.dumps(
            {
                "attribute": attribute,
                "entities": [a, b],
                "values": [facts[a][attribute], facts[b][attribute]],
            }
        ),
    }


def generate_split(
    split: str,
    n_entities: int = 20,
    max_value: int = 20,
    test_fraction: float = 0.25,
    n_train: int | None = None,
    n_test: int | None = None,
    seed: int = 0,
    attributes: list[str] | None = None,
) -> pd.DataFrame:
    """Deterministic split ``train`` or ``test``: every distinct question once, shuffled,
    capped at ``n_train`` / ``n_test`` when given. ``attributes``: which of
    ``ATTRIBUTES`` questions ask about (default all); fewer attributes means fewer
    facts to learn, so a student converges in fewer steps."""
    if split not in ("train", "test"):
        raise ValueError(f"synthetic dataset has splits 'train' and 'test', not '{split}'")
    attributes = sorted(ATTRIBUTES) if attributes is None else sorted(set(attributes))
    unknown = [a for a in attributes if a not in ATTRIBUTES]
    if unknown or not attributes:
        raise ValueError(
            f"synthetic attributes {unknown or attributes} are not known; "
            f"use a non-empty list of {sorted(ATTRIBUTES)}"
        )
    facts = world(n_entities, seed, max_value)
    pairs = list(itertools.combinations(sorted(facts), 2))
    random.Random(f"pairs-{seed}").shuffle(pairs)
    n_test_pairs = round(test_fraction * len(pairs))
    if not 0 < n_test_pairs < len(pairs):
        raise ValueError(
            f"test_fraction={test_fraction} of {len(pairs)} entity pairs leaves "
            "no test or no training pairs; change test_fraction or n_entities"
        )
    pool = pairs[:n_test_pairs] if split == "test" else pairs[n_test_pairs:]
    questions = [(a, b, attr) for x, y in pool for a, b in ((x, y), (y, x)) for attr in attributes]
    random.Random(f"order-{split}-{seed}").shuffle(questions)
    cap = n_test if split == "test" else n_train
    rows = [
        _question(a, b, attr, facts, f"syn-{split}-{i:05d}")
        for i, (a, b, attr) in enumerate(questions[:cap])
    ]
    return normalise_records(rows, f"synthetic[{split}]")


# Where this task makes a claim of the study come out differently from natural
# data; the verdict summary prints these beside the generated dataset's verdicts.
CLAIM_NOTES = (
    "Generated data: test questions pair entities that never meet in training, so a student "
    "must know each entity's value. The rationales state the values; the label alone gives only "
    "which of two is larger, from which a student can infer an order by transitivity. A small "
    "student manages that in some seeds and stays at chance in others, so label_only's "
    "per-seed accuracies can be bimodal (see the accuracy table) and its lens readout may have "
    "nothing to emerge.",
    "Generated data: shuffling the rationale's words destroys which value belongs to which "
    "entity, so 'shuffled after ≈ after' is expected to fail here even where it holds on "
    "natural rationales, whose words carry meaning without their order; a seed may recover "
    "part of it from which words occur together.",
    "Generated data: the key words (both values, the comparison, the answer word) are known by "
    "construction; a 4-word budget of random words rarely contains both values.",
    "Generated data: with the rationale before the label, a student answers from values it has "
    "just written; with it after, from values it has memorised, which the rationale taught it. "
    "Both routes rest on the same facts here, so the two orders can end equal.",
)
