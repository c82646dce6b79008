"""The built-in teacher for the synthetic dataset: a rule-based rationale writer.

It reads each row's ``key_facts`` and writes, e.g.,
``"zab weighs 57 , kol weighs 23 . the heaviest weighs 57 , so the answer is zab ."``
Word positions of the values and of the concluded entity are the key tokens,
known by construction, recorded as ``key_word_idx`` (indices into
``rationale.split()``). ``error_rate`` makes a seeded fraction of rationales
conclude a wrong entity, to exercise the teacher-correct filter.
"""

from __future__ import annotations

import hashlib
import json
import random

import pandas as pd

from ..data.schema import letters
from ..data.synthetic import ATTRIBUTES
from ..errors import InputError
from .base import Teacher, register_backend

TEMPLATE = "{facts} . the {superlative} {verb} {best} , so the answer is {name} ."


@register_backend("rule_based")
class RuleBasedTeacher(Teacher):
    def __init__(self, error_rate: float = 0.0, seed: int = 0):
        super().__init__(error_rate=error_rate, seed=seed)
        self.error_rate, self.seed = float(error_rate), int(seed)

    def rationales(self, data: pd.DataFrame, split: str) -> pd.DataFrame:
        if "key_facts" not in data.columns:
            raise InputError("dataset", None, "the rule_based teacher needs the 'key_facts' column",
                             "use it only with the synthetic dataset (source: synthetic)")
        prompt_hash = hashlib.sha256(TEMPLATE.encode()).hexdigest()[:16]
        gen_params = json.dumps({"backend": "rule_based", **self.params}, sort_keys=True)
        rows = []
        for ex in data.itertuples(index=False):
            rationale, answer, key_idx = self.write(ex.key_facts, list(ex.choices), ex.id)
            rows.append({"id": ex.id, "rationale": rationale, "teacher_answer": answer,
                         "prompt_hash": prompt_hash, "gen_params": gen_params,
                         "key_word_idx": key_idx})
        return pd.DataFrame(rows)

    def write(self, key_facts: str, choices: list[str], qid: str) -> tuple[str, str, list[int]]:
        facts = json.loads(key_facts)
        verb, max_word, min_word = ATTRIBUTES[facts["attribute"]]
        values = facts["values"]
        pick = max if facts["direction"] == "max" else min
        name = pick(choices, key=lambda e: values[e])
        if random.Random(f"{self.seed}-{qid}").random() < self.error_rate:
            name = random.Random(f"wrong-{self.seed}-{qid}").choice([c for c in choices if c != name])
        words: list[str] = []
        key_idx: list[int] = []
        for i, entity in enumerate(choices):
            if i:
                words.append(",")
            words += [entity, verb]
            key_idx.append(len(words))
            words.append(str(values[entity]))
        words += [".", "the", max_word if facts["direction"] == "max" else min_word, verb]
        key_idx.append(len(words))
        words += [str(values[name]), ",", "so", "the", "answer", "is"]
        key_idx.append(len(words))
        words += [name, "."]
        return " ".join(words), letters(len(choices))[choices.index(name)], key_idx
