"""A generated multiple-choice dataset where rationales carry information.

Each of ``n_entities`` made-up entities has hidden integer attributes (weight,
height). A question asks which of ``n_choices`` entities is the heaviest,
lightest, tallest or shortest. The label alone says only which entity won; the
teacher's rationale states every entity's value and the rule, so a student can
learn the entity-to-value facts that generalise to entity sets it never saw.
Test questions use entity sets that never occur in training.

``key_facts`` (JSON) records, per row, the attribute, the direction and the
values of the entities asked about: the ground truth for which rationale
tokens matter, used later to score attribution methods.
"""

from __future__ import annotations

import itertools
import json
import random

import pandas as pd

from .schema import letters, normalise_records

ATTRIBUTES = {  # attribute -> (verb for the rationale, word for max, word for min)
    "weight": ("weighs", "heaviest", "lightest"),
    "height": ("measures", "tallest", "shortest"),
}
_ONSETS = ["b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z"]
_VOWELS = ["a", "e", "i", "o", "u"]
_CODAS = ["b", "d", "g", "k", "l", "m", "n", "p", "r", "s", "t", "x"]


def entity_names(n: int, rng: random.Random) -> list[str]:
    pool = sorted({o + v + c for o in _ONSETS for v in _VOWELS for c in _CODAS})
    return rng.sample(pool, n)


def world(n_entities: int, seed: int) -> dict[str, dict[str, int]]:
    """Entity -> attribute -> value. Values are distinct per attribute (no ties)."""
    rng = random.Random(f"world-{seed}")
    names = entity_names(n_entities, rng)
    values = {a: rng.sample(range(10, 100), n_entities) for a in ATTRIBUTES}
    return {name: {a: values[a][i] for a in ATTRIBUTES} for i, name in enumerate(names)}


def _question(entities: tuple[str, ...], attribute: str, direction: str,
              facts: dict[str, dict[str, int]], rng: random.Random, qid: str) -> dict:
    _, max_word, min_word = ATTRIBUTES[attribute]
    superlative = max_word if direction == "max" else min_word
    choices = list(entities)
    rng.shuffle(choices)
    pick = max if direction == "max" else min
    gold = pick(choices, key=lambda e: facts[e][attribute])
    names = " , ".join(choices[:-1]) + " or " + choices[-1]
    return {
        "id": qid,
        "question": f"which is {superlative} : {names} ?",
        "choices": choices,
        "label": letters(len(choices))[choices.index(gold)],
        "key_facts": json.dumps({"attribute": attribute, "direction": direction,
                                 "values": {e: facts[e][attribute] for e in choices}}),
    }


def generate_split(split: str, n_entities: int = 24, n_choices: int = 3, n_train: int = 1200,
                   n_test: int = 300, seed: int = 0) -> pd.DataFrame:
    """Deterministic split ``train`` or ``test`` of the generated dataset."""
    if split not in ("train", "test"):
        raise ValueError(f"synthetic dataset has splits 'train' and 'test', not '{split}'")
    facts = world(n_entities, seed)
    rng = random.Random(f"sets-{seed}")
    sets = list(itertools.combinations(sorted(facts), n_choices))
    rng.shuffle(sets)
    if n_test > len(sets) // 2:
        raise ValueError(f"n_test={n_test} leaves too few entity sets for training; "
                         f"raise n_entities or lower n_test")
    test_sets, train_sets = sets[:n_test], sets[n_test:]
    pool = test_sets if split == "test" else train_sets
    n = n_test if split == "test" else n_train
    rows = []
    qrng = random.Random(f"questions-{split}-{seed}")
    for i in range(n):
        entities = pool[i % len(pool)] if split == "test" else qrng.choice(pool)
        attribute = qrng.choice(sorted(ATTRIBUTES))
        direction = qrng.choice(["max", "min"])
        rows.append(_question(entities, attribute, direction, facts, qrng, f"syn-{split}-{i:05d}"))
    return normalise_records(rows, f"synthetic[{split}]")
