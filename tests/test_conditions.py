"""One test per registered condition; test_every_condition_has_a_test keeps it so."""

import random
from collections import Counter

import pytest

from cotdistill import conditions as C
from cotdistill.data.synthetic import generate_split
from cotdistill.errors import ConfigError
from cotdistill.teachers import run_teacher

RAT = "zab weighs 7 and kol weighs 3 . 7 is more than 3 , so the answer is heavier ."
EX = C.Example(id="q1", question="is zab heavier or lighter than kol ?",
               choices=["heavier", "lighter"], label="A", rationale=RAT,
               key_word_idx=[2, 6, 10, 18], other_rationale="another example's reasoning")
TESTED = set()


def target(name, **params):
    TESTED.add(name)
    return C.REGISTRY[name].target(EX, random.Random(0), **{**C.REGISTRY[name].defaults, **params})


def reason_of(t):
    return t.split(f"{C.REASON_MARK} ", 1)[1]


def test_label_only():
    assert target("label_only") == "Answer: A"


def test_cot_before_puts_rationale_first():
    assert target("cot_before") == f"Reason: {RAT}\nAnswer: A"
    assert C.REGISTRY["cot_before"].rationale_first


def test_cot_after_puts_label_first():
    assert target("cot_after") == f"Answer: A\nReason: {RAT}"
    assert not C.REGISTRY["cot_after"].rationale_first


@pytest.mark.parametrize("name", ["shuffled_after", "shuffled_before"])
def test_shuffled_is_a_permutation_of_the_rationale(name):
    t = target(name)
    body = reason_of(t).split("\nAnswer:")[0]
    assert Counter(body.split()) == Counter(RAT.split()) and body != RAT
    assert target(name) == t  # same rng seed, same permutation
    assert C.REGISTRY[name].rationale_first == name.endswith("before")


def test_keytokens_after_keeps_key_words_in_order():
    assert reason_of(target("keytokens_after")) == "7 3 more heavier"
    assert reason_of(target("keytokens_after", k=2)) == "7 3"


def test_randomtokens_after_same_budget_original_order():
    words = reason_of(target("randomtokens_after", k=4)).split()
    assert len(words) == 4
    pos = [RAT.split().index(w) for w in words if w not in ("weighs", "3", "7")]
    assert pos == sorted(pos)


def test_filler_after():
    assert reason_of(target("filler_after", k=3, filler="...")) == "... ... ..."


def test_other_rationale_after_uses_a_different_example():
    assert reason_of(target("other_rationale_after")) == EX.other_rationale
    data = generate_split("train", n_entities=8, max_value=8)
    rat = run_teacher({"backend": "rule_based"}, data, "train")
    rows = C.build_train("other_rationale_after", {"seed": 2}, data, rat)
    own = dict(zip(rat["id"], rat["rationale"]))
    assert all(reason_of(t) != own[i] for i, t in zip(rows["id"], rows["target"]))


def test_every_condition_has_a_test():
    untested = set(C.REGISTRY) - TESTED
    assert not untested, f"add a test for {sorted(untested)}"


def test_build_train_is_seeded_and_prompts_equal_across_conditions():
    data = generate_split("train", n_entities=8, max_value=8)
    rat = run_teacher({"backend": "rule_based"}, data, "train")
    a = C.build_train("shuffled_after", {"seed": 0}, data, rat)
    assert a.equals(C.build_train("shuffled_after", {"seed": 0}, data, rat))
    assert not a["target"].equals(C.build_train("shuffled_after", {"seed": 1}, data, rat)["target"])
    assert a["prompt"].equals(C.build_train("label_only", {}, data, rat)["prompt"])
    # per-example rng: an example's target does not depend on which others are present
    sub = C.build_train("shuffled_after", {"seed": 0}, data.iloc[5:9], rat)
    assert sub["target"].tolist() == a["target"].iloc[5:9].tolist()


def test_new_condition_is_one_function_and_one_registration():
    @C.register("upper_after_test_only")
    def upper_after(ex, rng):
        return C.after(ex.label, ex.rationale.upper())
    try:
        data = generate_split("train", n_entities=6, max_value=6)
        rat = run_teacher({"backend": "rule_based"}, data, "train")
        rows = C.build_train("shouting", {"function": "upper_after_test_only"}, data, rat)
        assert rows["target"].str.contains("WEIGHS|MEASURES").all()
    finally:
        del C.REGISTRY["upper_after_test_only"]


def test_unknown_function_and_parameter_are_config_errors():
    with pytest.raises(ConfigError, match="not a registered condition"):
        C.resolve("x", {"function": "nope"})
    with pytest.raises(ConfigError, match=r"unknown parameter\(s\) \['kk'\]"):
        C.resolve("filler_after", {"kk": 1})
