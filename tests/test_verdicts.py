"""Verdict rules on intervals whose answers are known."""

import pandas as pd
import pytest

from cotdistill.verdicts import (CONTRADICTED, INCONCLUSIVE, SUPPORTED, claim_pairs, decide,
                                 decide_emergence, summary_markdown, verdicts)


@pytest.mark.parametrize("kind,low,high,expect", [
    (">", 0.01, 0.10, SUPPORTED), (">", -0.10, -0.01, CONTRADICTED), (">", -0.02, 0.05, INCONCLUSIVE),
    (">", -0.05, 0.0, CONTRADICTED),
    ("≈", -0.03, 0.04, SUPPORTED), ("≈", 0.06, 0.20, CONTRADICTED), ("≈", -0.30, -0.06, CONTRADICTED),
    ("≈", -0.02, 0.08, INCONCLUSIVE),
])
def test_interval_rules(kind, low, high, expect):
    assert decide(kind, low, high, margin=0.05) == expect


@pytest.mark.parametrize("a,b,expect", [
    ([1, 1], [2, 3], SUPPORTED), ([3, 2], [1, 1], CONTRADICTED), ([1, 2], [2, 3], INCONCLUSIVE),
    ([1, 1], [None, 2], INCONCLUSIVE), ([1, float("nan")], [2, 2], INCONCLUSIVE),
])
def test_emergence_rule(a, b, expect):
    assert decide_emergence(a, b) == expect


def comparison(condition, reference, diff, low, high, metric="gen_accuracy"):
    return {"student": "s", "teacher": "t", "dataset": "d", "metric": metric,
            "condition": condition, "reference": reference, "difference": diff, "low": low,
            "high": high}


def test_claims_read_their_comparisons_in_either_direction():
    rows = pd.DataFrame([
        comparison("cot_before", "cot_after", -0.10, -0.15, -0.05),   # after > before, stored flipped
        comparison("shuffled_after", "cot_after", -0.01, -0.03, 0.02),
        comparison("keytokens_after", "cot_after", 0.0, -0.02, 0.02),
        comparison("keytokens_after", "randomtokens_after", -0.10, -0.2, -0.01),
        comparison("cot_after", "cot_before", 0.5, 0.4, 0.6, metric="choice_accuracy"),
    ])
    emergence = pd.DataFrame([
        {"student": "s", "teacher": "t", "dataset": "d", "lens": "logit", "condition": c,
         "layer_per_seed": per_seed} for c, per_seed in (("cot_after", "1, 1"), ("label_only", "2, 3"))])
    table = verdicts(rows, emergence, "gen_accuracy", margin=0.05).set_index("claim")
    assert table.loc["after_beats_before", "verdict"] == SUPPORTED
    assert "+10.0 points [+5.0, +15.0]" in table.loc["after_beats_before", "evidence"]
    assert table.loc["shuffled_after_matches_after", "verdict"] == SUPPORTED
    # key tokens match the rationale but lose to random tokens: one part contradicted
    assert table.loc["key_tokens_suffice", "verdict"] == CONTRADICTED
    assert table.loc["lens_after_emerges_earlier", "verdict"] == SUPPORTED
    md = summary_markdown(table.reset_index(), "gen_accuracy", 0.05, ["a note"])
    assert "## Rules" in md and "±margin" in md and "| **contradicted** |" in md and "- a note" in md


def test_claims_need_their_comparisons_computed():
    assert ("cot_after", "cot_before") in claim_pairs()
    assert ("keytokens_after", "randomtokens_after") in claim_pairs()
    # a config without the key-token conditions: that claim is not judged, and says why
    rows = pd.DataFrame([comparison("cot_after", "cot_before", 0.1, 0.05, 0.15)])
    table = verdicts(rows, None, "gen_accuracy").set_index("claim")
    assert table.loc["after_beats_before", "verdict"] == SUPPORTED
    assert table.loc["key_tokens_suffice", "verdict"] == "not judged"
    assert "keytokens_after" in table.loc["key_tokens_suffice", "evidence"]


@pytest.mark.parametrize("low, high, reason", [
    (-0.016, 0.027, "equal within ±5 points"),      # tight around 0: more seeds would not help
    (-0.11, 0.01, "spans more than ±5 points"),     # wide: too few seeds or examples
])
def test_an_inconclusive_advantage_says_why(low, high, reason):
    rows = pd.DataFrame([comparison("cot_after", "cot_before", (low + high) / 2, low, high)])
    table = verdicts(rows, None, "gen_accuracy", margin=0.05).set_index("claim")
    assert table.loc["after_beats_before", "verdict"] == "inconclusive"
    assert reason in table.loc["after_beats_before", "evidence"]
