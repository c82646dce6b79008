"""Verdict rules on studies whose answers are known: nothing is judged that the data
cannot say, shares of a gain are judged against the declared share, families are
Holm-corrected, and the lens claim needs both lenses."""

import numpy as np
import pandas as pd
import pytest

from cotdistill import verdicts as V
from cotdistill.verdicts import (
    CONTRADICTED,
    INCONCLUSIVE,
    NOT_JUDGED,
    SUPPORTED,
    Settings,
    PartResult,
    claim_pairs,
    decide_emergence,
    summary_markdown,
    verdicts,
)

CONDITIONS = [
    "label_only",
    "cot_before",
    "cot_after",
    "shuffled_after",
    "keytokens_after",
    "randomtokens_after",
    "answer_text_after",
]


def runs(
    accuracy: float,
    seeds: int = 3,
    n: int = 1221,
    n_choices: int = 5,
    seed: int = 0,
    parsed: float = 1.0,
) -> dict:
    """Correctness of ``seeds`` runs at exactly ``accuracy`` each (a shuffled exact count)."""
    rng = np.random.default_rng(seed)
    right = round(accuracy * n)
    mat = np.zeros((seeds, n), dtype=bool)
    for s in range(seeds):
        mat[s, rng.permutation(n)[:right]] = True
    parse = np.zeros((seeds, n), dtype=bool)
    parse[:, : round(parsed * n)] = True
    return {
        "gen_accuracy": mat,
        "choice_accuracy": mat.copy(),
        "gen_parsed": parse | mat,
        "chance": np.full(n, 1 / n_choices),
    }


def study(accuracies: dict, unit=("s", "t", "d"), **kw) -> dict:
    return {(*unit, c): runs(a, seed=i, **kw) for i, (c, a) in enumerate(accuracies.items())}


def table(matrices, **settings) -> pd.DataFrame:
    return verdicts(matrices, Settings(**settings)).set_index("claim")


def test_everything_at_chance_judges_nothing():
    """The audit's case: 3 seeds x 1,221 questions, every condition at 20%. Before,
    'shuffled after ≈ after' came out supported."""
    t = table(study({c: 0.2 for c in CONDITIONS}))
    assert (t["verdict"] == NOT_JUDGED).all(), t["evidence"].tolist()
    assert "no measurable gain" in t.loc["shuffled_after_matches_after", "evidence"]
    assert "above chance (20.0%)" in t.loc["after_beats_before", "evidence"]


def test_everything_at_the_ceiling_judges_nothing():
    t = table(study({c: 1.0 for c in CONDITIONS}))
    assert (t["verdict"] == NOT_JUDGED).all()
    assert "at the ceiling (every seed at 100%)" in t.loc["after_beats_before", "evidence"]


def test_a_comparison_at_the_floor_is_not_judged():
    """QuaRel, 2 choices, both conditions at 0% generation accuracy: before, 'after beats
    before' was contradicted on +0.0 [+0.0, +0.0]."""
    t = table(study({"cot_after": 0.0, "cot_before": 0.0}, n_choices=2))
    assert t.loc["after_beats_before", "verdict"] == NOT_JUDGED
    assert "cot_after is at the floor (every seed at 0%)" in t.loc["after_beats_before", "evidence"]


def test_students_that_rarely_write_an_answer_are_not_judged_on_generation():
    m = study({"cot_after": 0.7, "cot_before": 0.3})
    m[("s", "t", "d", "cot_before")]["gen_parsed"][:] = False
    m[("s", "t", "d", "cot_before")]["gen_parsed"][:, :300] = True  # 25% parsed
    assert "parseable answer on 25%" in table(m).loc["after_beats_before", "evidence"]
    assert table(m, metric="choice_accuracy").loc["after_beats_before", "verdict"] == SUPPORTED


def test_keeping_the_gain_is_judged_against_the_declared_share():
    base = {"label_only": 0.40, "cot_after": 0.60}
    keeps_all = table(study({**base, "shuffled_after": 0.60}))
    assert keeps_all.loc["shuffled_after_matches_after", "verdict"] == SUPPORTED
    assert "keeps 100% of the gain" in keeps_all.loc["shuffled_after_matches_after", "evidence"]
    keeps_none = table(study({**base, "shuffled_after": 0.41}))
    assert keeps_none.loc["shuffled_after_matches_after", "verdict"] == CONTRADICTED
    # half the gain is "kept" under a lax rule (30%) but not under the default (80%)
    half = study({**base, "shuffled_after": 0.50})
    assert table(half).loc["shuffled_after_matches_after", "verdict"] == CONTRADICTED
    assert table(half, retained=0.3).loc["shuffled_after_matches_after", "verdict"] == SUPPORTED


def test_an_equal_result_reads_not_inferior_and_the_weak_claim_is_judged_too():
    t = table(study({"cot_after": 0.605, "cot_before": 0.60}))
    assert t.loc["after_beats_before", "verdict"] == INCONCLUSIVE
    assert (
        "not inferior within ±5 points; superiority not shown"
        in t.loc["after_beats_before", "evidence"]
    )
    assert t.loc["after_not_worse_than_before", "verdict"] == SUPPORTED
    worse = table(study({"cot_after": 0.40, "cot_before": 0.60}))
    assert worse.loc["after_beats_before", "verdict"] == CONTRADICTED
    assert worse.loc["after_not_worse_than_before", "verdict"] == CONTRADICTED


def test_each_claim_part_is_holm_corrected_across_units():
    part = V.CLAIMS[0].parts[0]
    tested = {
        (("s", "t", d), "after_beats_before", 0): PartResult(part, p_support=p, p_contradict=1 - p)
        for d, p in (("a", 0.02), ("b", 0.5))
    }
    sizes = V._holm(tested)
    assert sizes[("after_beats_before", 0)] == 2
    # 0.02 alone would be supported (< 0.025); Holm over two units makes it 0.04
    assert [t.verdict for t in tested.values()] == [INCONCLUSIVE, INCONCLUSIVE]
    alone = {k: v for k, v in list(tested.items())[:1]}
    V._holm(alone)
    assert list(alone.values())[0].verdict == SUPPORTED


def test_claims_need_their_conditions():
    assert ("cot_after", "cot_before") in claim_pairs()
    assert ("keytokens_after", "randomtokens_after") in claim_pairs()
    t = table(study({"label_only": 0.4, "cot_before": 0.5, "cot_after": 0.6}))
    assert t.loc["after_beats_before", "verdict"] == SUPPORTED
    assert t.loc["key_tokens_suffice", "verdict"] == NOT_JUDGED
    assert "needs conditions: keytokens_after" in t.loc["key_tokens_suffice", "evidence"]


@pytest.mark.parametrize(
    "a,b,expect",
    [
        ([1, 1], [2, 3], SUPPORTED),
        ([3, 2], [1, 1], CONTRADICTED),
        ([1, 2], [2, 3], INCONCLUSIVE),
        ([1, 1], [None, 2], NOT_JUDGED),
        ([1, float("nan")], [2, 2], NOT_JUDGED),
    ],
)
def test_emergence_rule(a, b, expect):
    assert decide_emergence(a, b) == expect


def emergence(logit, tuned=None):
    rows = []
    for lens, layers in (("logit", logit), ("tuned", tuned)):
        for cond, per_seed in (layers or {}).items():
            rows.append(
                {
                    "student": "s",
                    "teacher": "t",
                    "dataset": "d",
                    "lens": lens,
                    "condition": cond,
                    "layer_per_seed": per_seed,
                }
            )
    return pd.DataFrame(rows)


@pytest.mark.parametrize(
    "logit,tuned,expect,why",
    [
        (
            {"cot_after": "1, 1", "label_only": "2, 3"},
            {"cot_after": "1, 2", "label_only": "3, 3"},
            SUPPORTED,
            "",
        ),
        (
            {"cot_after": "1, 1", "label_only": "2, 3"},
            {"cot_after": "3, 3", "label_only": "1, 2"},
            INCONCLUSIVE,
            "the logit and tuned lens disagree",
        ),
        ({"cot_after": "1, 1", "label_only": "2, 3"}, None, NOT_JUDGED, "needs the tuned lens"),
        (
            {"cot_after": "1, 1", "label_only": "2, -"},
            {"cot_after": "1, 1", "label_only": "2, 2"},
            NOT_JUDGED,
            "no answer to emerge",
        ),
    ],
)
def test_the_lens_claim_needs_both_lenses_to_agree(logit, tuned, expect, why):
    m = study({"cot_after": 0.6, "label_only": 0.4})
    t = verdicts(m, Settings(), emergence(logit, tuned)).set_index("claim")
    assert t.loc["lens_after_emerges_earlier", "verdict"] == expect
    assert why in t.loc["lens_after_emerges_earlier", "evidence"]


def test_the_summary_prints_settings_family_rules_and_a_paragraph_per_claim():
    m = {
        **study({c: a for c, a in zip(CONDITIONS, (0.4, 0.5, 0.6, 0.6, 0.6, 0.45, 0.5))}),
        **study({"cot_after": 0.6, "cot_before": 0.5}, unit=("s", "t", "e")),
    }
    t = verdicts(m, Settings(retained=0.75))
    md = summary_markdown(t, Settings(retained=0.75), ["a note"])
    assert "must keep: 75%" in md and "Welch/t composite" in md
    assert "Family: 2 unit(s) (s / t / d, s / t / e)" in md
    assert "## What each claim means" in md and "shuffled should keep" in md
    assert "## Rules" in md and "Holm" in md and "- a note" in md
    assert "| **supported** |" in md
