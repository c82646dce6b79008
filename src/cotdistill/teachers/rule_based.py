"""The built-in teacher for the synthetic dataset: a rule-based rationale writer.

It reads each row's ``key_facts`` and writes, e.g.,
``"zab weighs 7 and kol weighs 3 . 7 is more than 3 , so the answer is heavier ."``
Word positions of the values, the comparison and the answer word are the key tokens,
known by construction, recorded as ``key_word_idx`` (indices into ``rationale.split()``):
the ground truth that attribution is scored against, and the "known" score source.
``error_rate`` makes a seeded fraction of rationales
conclude a wrong entity, to exercise the teacher-correct filter.
"""

from __future__ import annotations

import hashlib
import json
import random

import pandas as pd

from ..data.synthetic import ATTRIBUTES
from ..errors import InputError
from .base import Teacher, register_backend

TEMPLATE = (
    "{a} {verb} {va} and {b} {verb} {vb} . {va} is {more_or_less} than {vb} , "
    "so the answer is {word} ."
)
# key words by construction: both values (first mention), the comparison and the answer word
KEY_WORD_IDX = [TEMPLATE.split().index(f) for f in ("{va}", "{vb}", "{more_or_less}", "{word}")]


@register_backend("rule_based")
class RuleBasedTeacher(Teacher):
    """Rationales from the synthetic dataset's key facts; a seeded share ``error_rate``
    of them conclude a wrong entity."""

    provides_key_words = True  # the template says which words carry the answer

    def __init__(self, error_rate: float = 0.0, seed: int = 0):
        super().__init__(error_rate=error_rate, seed=seed)
        self.error_rate, self.seed = float(error_rate), int(seed)

    @classmethod
    def dataset_problem(cls, dataset):
        """Only the synthetic dataset has the key facts this teacher writes from."""
        if dataset.get("source") != "synthetic":
            return (
                f"the rule_based teacher writes its rationales from the key facts of the "
                f"generated dataset (source: synthetic), and this one (source: "
                f"{dataset.get('source')}) has none",
                "give this dataset a precomputed, hf or openai teacher",
            )
        return None

    def rationales(self, data: pd.DataFrame, split: str) -> pd.DataFrame:
        """A rationale from each row's key facts (some wrong, at ``error_rate``)."""
        if "key_facts" not in data.columns:
            raise InputError(
                "dataset",
                None,
                "the rule_based teacher needs the 'key_facts' column",
                "use it only with the synthetic dataset (source: synthetic)",
            )
        prompt_hash = hashlib.sha256(TEMPLATE.encode()).hexdigest()[:16]
        gen_params = json.dumps({"backend": "rule_based", **self.params}, sort_keys=True)
        rows = []
        for ex in data.itertuples(index=False):
            rationale, answer, key_idx = self.write(ex.key_facts, ex.id)
            rows.append(
                {
                    "id": ex.id,
                    "rationale": rationale,
                    "teacher_answer": answer,
                    "prompt_hash": prompt_hash,
                    "gen_params": gen_params,
                    "key_word_idx": key_idx,
                }
            )
        return pd.DataFrame(rows)

    def write(self, key_facts: str, qid: str) -> tuple[str, str, list[int]]:
        """(rationale, stated letter, key word indices) for one question."""
        facts = json.loads(key_facts)
        verb, more, less = ATTRIBUTES[facts["attribute"]]
        (a, b), (va, vb) = facts["entities"], facts["values"]
        letter = "A" if va > vb else "B"
        if random.Random(f"{self.seed}-{qid}").random() < self.error_rate:
            letter = "B" if letter == "A" else "A"  # a wrong teacher: states the other answer
        text = TEMPLATE.format(
            a=a,
            b=b,
            verb=verb,
            va=va,
            vb=vb,
            more_or_less="more" if letter == "A" else "less",
            word=more if letter == "A" else less,
        )
        return text, letter, list(KEY_WORD_IDX)
