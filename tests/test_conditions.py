"""One test per registered condition; test_every_condition_has_a_test keeps it so."""

import random
from collections import Counter

import pytest

import pandas as pd

from cotdistill import conditions as C
from cotdistill.attribution.scores import Units, known_key_word_scores, units_from_scores
from cotdistill.data.synthetic import generate_split
from cotdistill.errors import ConfigError
from cotdistill import formats as F
from cotdistill.formats import rationale_part
from cotdistill.teachers import run_teacher

RAT = "zab weighs 7 and kol weighs 3 . 7 is more than 3 , so the answer is heavier ."
KEYS = [2, 6, 10, 18]  # 7, 3, more, heavier
# word scores: the key words score highest, in the order heavier > 7 > more > 3
WORD_SCORES = [0.0] * len(RAT.split())
for i, s in zip(KEYS, (0.5, 0.2, 0.4, 0.9)):
    WORD_SCORES[i] = s
WORD_SCORES[0] = -2.0  # "zab": a large negative effect
UNITS = Units(RAT, C.words_of(RAT).spans, WORD_SCORES)
EX = C.Example(
    id="q1",
    question="is zab heavier or lighter than kol ?",
    choices=["heavier", "lighter"],
    label="A",
    rationale=RAT,
    units=UNITS,
    other_rationale="another example's reasoning",
)
TESTED = set()


def target(name, **params):
    TESTED.add(name)
    params = {
        k: v
        for k, v in {**C.REGISTRY[name].defaults, **params}.items()
        if k not in C.BUILDER_PARAMS
    }
    return C.REGISTRY[name].target(EX, random.Random(0), **params)


def reason_of(t):
    return t.split(f"{F.REASON_MARK} ", 1)[1]


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


def test_keytokens_after_keeps_the_top_k_by_score_in_original_order():
    assert reason_of(target("keytokens_after", k=4)) == "7 3 more heavier"
    assert reason_of(target("keytokens_after", k=2)) == "7 heavier"  # top 2 by score
    assert reason_of(target("keytokens_after", fraction=0.1)) == "7 heavier"  # ceil(0.1 * 20)
    assert reason_of(target("keytokens_after", k=1, rank_by="abs")) == "zab"
    assert len(reason_of(target("keytokens_after")).split()) == 5  # default budget


def test_keytokens_before_puts_key_words_first():
    assert target("keytokens_before", k=2) == "Reason: 7 heavier\nAnswer: A"
    assert C.REGISTRY["keytokens_before"].rationale_first


def test_masked_after_keeps_positions_and_replaces_the_rest():
    body = reason_of(target("masked_after", k=2))
    words = body.split()
    assert len(words) == len(RAT.split())
    assert [w for w in words if w != "_"] == ["7", "heavier"]
    assert words[2] == "7" and words[18] == "heavier"


def test_unk_after_keeps_only_the_length():
    assert reason_of(target("unk_after")) == " ".join(["_"] * len(RAT.split()))
    assert reason_of(target("unk_after", placeholder="[UNK]")).split() == ["[UNK]"] * 20


def test_randomtokens_after_same_budget_original_order():
    assert len(reason_of(target("randomtokens_after", fraction=0.2)).split()) == 4
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


def test_answer_text_after_is_the_gold_choice_alone():
    assert target("answer_text_after") == "Answer: A\nReason: heavier"


def test_conditions_that_draw_make_one_draw_per_training_seed(tmp_path):
    """Shuffles and random words are drawn anew for every training seed, so the seed-to-seed
    spread of a run group includes "which random words"; other conditions share one table."""
    from cotdistill import targets

    data = generate_split("train", n_entities=8, max_value=8)
    rat = run_teacher({"backend": "rule_based"}, data, "train")
    for name in ("shuffled_after", "randomtokens_after", "other_rationale_after"):
        assert C.draws(name, {})
        draws = [C.build_train(name, {"seed": 0}, data, rat, draw=d)["target"] for d in (0, 1)]
        assert (draws[0] != draws[1]).any(), name
        # the config's seed still moves every draw; draw 0 with seed 0 is the old table
        assert C.build_train(name, {"seed": 0}, data, rat)["target"].equals(draws[0])
    for name in ("cot_after", "label_only", "answer_text_after"):
        assert not C.draws(name, {})
        assert C.build_train(name, {}, data, rat, draw=3).equals(C.build_train(name, {}, data, rat))
    config = {"conditions": {"shuffled_after": {"seed": 0}, "cot_after": {}}}
    assert targets.condition_train(config, "t", "d", "shuffled_after", 2).endswith(
        "shuffled_after/train.draw2.parquet"
    )
    assert targets.condition_train(config, "t", "d", "cot_after", 2).endswith(
        "cot_after/train.draw0.parquet"
    )


def test_a_condition_reports_how_often_its_rationale_part_restates_the_answer():
    rows = pd.DataFrame(
        {
            "target": [
                "Answer: A\nReason: so it is heavier",
                "Answer: B\nReason: 7 3",
                "Reason: the answer is (b) here\nAnswer: B",
                "Answer: A",
            ],
            "label": ["A", "B", "B", "A"],
            "choices": [["heavier", "lighter"]] * 4,
        }
    )
    assert rationale_part(rows["target"][2]) == "the answer is (b) here"
    assert rationale_part("Answer: A") is None
    assert C.answer_share(rows) == pytest.approx(2 / 4)  # heavier; (b); not "7 3"; none
    assert C.answer_share(rows.iloc[[3]]) is None


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
        return F.after(ex.label, ex.rationale.upper())

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


def test_needs_scores_is_one_contract_over_params():
    assert C.needs_scores("keytokens_after", {}) and C.needs_scores("masked_after", {"k": 2})
    assert not C.needs_scores("randomtokens_after", {"k": 4})
    assert C.needs_scores("randomtokens_after", {"k": 4, "unit": "token"})
    assert not C.needs_scores("unk_after", {}) and C.needs_scores("unk_after", {"unit": "token"})
    assert not any(C.needs_scores(n, {}) for n in ("label_only", "cot_before", "filler_after"))


@pytest.mark.parametrize(
    "spec, match",
    [
        ({"k": 2, "fraction": 0.5}, "both k and fraction"),
        ({"unit": "char"}, "unit 'char'"),
        ({"k": 0}, "positive integer"),
        ({"fraction": 1.5}, "outside"),
        ({"rank_by": "rank"}, "rank_by"),
    ],
)
def test_bad_budget_and_unit_params_are_config_errors(spec, match):
    with pytest.raises(ConfigError, match=match):
        C.resolve("keytokens_after", spec)


def synthetic_with_scores():
    data = generate_split("train", n_entities=8, max_value=8)
    rat = run_teacher({"backend": "rule_based"}, data, "train")
    return data, rat, known_key_word_scores(rat)


def test_build_train_reads_known_key_words_as_just_another_score_source():
    data, rat, scores = synthetic_with_scores()
    rows = C.build_train("keytokens_after", {"k": 4}, data, rat, scores=scores)
    keys = {
        rid: " ".join(t.split()[i] for i in sorted(k))
        for rid, t, k in zip(rat["id"], rat["rationale"], rat["key_word_idx"])
    }
    assert all(reason_of(t) == keys[i] for i, t in zip(rows["id"], rows["target"]))
    with pytest.raises(ConfigError, match="needs a scores table"):
        C.build_train("keytokens_after", {"k": 4}, data, rat)


def test_missing_scores_for_an_example_name_the_file():
    data, rat, scores = synthetic_with_scores()
    from cotdistill.errors import InputError

    with pytest.raises(InputError, match="scores.parquet.*no scores for training example"):
        C.build_train(
            "masked_after",
            {},
            data,
            rat,
            scores=scores.iloc[40:],
            scores_path="results/x/scores.parquet",
        )


def test_token_level_units_come_from_the_attributor_tokens():
    rationale = "unhappy cats sleep"
    # an attributor that cut "unhappy" into two tokens, plus a whitespace-only token
    rows = pd.DataFrame(
        {
            "id": "q",
            "position": range(5),
            "token": ["un", "happy", "", "cats", "sleep"],
            "start": [0, 2, 7, 8, 13],
            "end": [2, 7, 7, 12, 18],
            "word_idx": [0, 0, -1, 1, 2],
            "score": [0.5, 0.25, 9.0, -1.0, 2.0],
        }
    )
    tokens = units_from_scores(rationale, rows, "token")
    assert tokens.pieces == ["un", "happy", "cats", "sleep"]  # whitespace-only token dropped
    assert tokens.render([0, 1]) == "unhappy" and tokens.render([0, 3]) == "un sleep"
    assert tokens.render(range(4), {1: "_"}) == "un _ cats sleep"
    words = units_from_scores(rationale, rows, "word")
    assert words.pieces == ["unhappy", "cats", "sleep"] and words.scores == [0.75, -1.0, 2.0]
    assert units_from_scores(rationale, rows, "word", "max").scores == [0.5, -1.0, 2.0]


def test_only_correct_leaving_no_rows_fails_in_the_conditions_job_with_the_fix():
    from cotdistill.errors import InputError

    data = generate_split("train", n_entities=5, max_value=5)
    rat = run_teacher({"backend": "rule_based"}, data, "train").assign(teacher_correct=False)
    with pytest.raises(InputError) as e:
        C.build_train(
            "cot_after",
            {},
            data,
            rat,
            only_correct=True,
            rationales_path="results/rationales/t/d/train.parquet",
        )
    assert e.value.path == "results/rationales/t/d/train.parquet"
    assert "0 training rows" in e.value.problem and "teacher is right on none" in e.value.problem
    assert "only_correct: false" in e.value.fix


def test_a_budget_as_large_as_the_rationale_stops_unless_allowed(shared_data, tmp_path):
    """k: 500 on 20-40-word PaLM rationales gave cot_after's targets in every row: the
    conditions job stops (and the pre-run check, for rationale files), unless allowed;
    the share of words a budget keeps is in the table's provenance."""
    import json

    from cotdistill.data.loaders import load_jsonl
    from cotdistill.errors import ConfigError
    from cotdistill.inputs import input_problems
    from cotdistill.stages import make_conditions
    from cotdistill.tables import read_provenance, write_table

    csqa = shared_data / "commonsense_qa/train_rand_split.jsonl"
    with open(csqa) as f:
        lines = [next(f) for _ in range(12)]
    (tmp_path / "train.jsonl").write_text("".join(lines))
    data = load_jsonl(tmp_path / "train.jsonl")
    palm = shared_data / "rationales/commonsense_qa/palm540b.train.jsonl"
    with open(palm) as f:
        by_id = {r["id"]: r["rationale"] for r in map(json.loads, f)}
    rat = pd.DataFrame(
        {"id": data["id"], "rationale": [by_id[i] for i in data["id"]], "teacher_correct": True}
    )

    with pytest.raises(
        ConfigError,
        match=r"k=500 keeps every word of all 12 rationales \(median "
        r"\d+ words\).*Fix: set a budget below",
    ):
        C.build_train("randomtokens_after", {"k": 500}, data, rat)
    whole = C.build_train("randomtokens_after", {"k": 500, "allow_full_budget": True}, data, rat)
    assert (
        whole.attrs["budget"]["rows_kept_whole"] == 12 and whole.attrs["budget"]["kept_share"] == 1
    )
    assert whole["target"].tolist() == C.build_train("cot_after", {}, data, rat)["target"].tolist()

    write_table(data, tmp_path / "train.parquet")
    write_table(rat, tmp_path / "r.parquet")
    make_conditions(
        "randomtokens_after",
        {"k": 5},
        False,
        str(tmp_path / "train.parquet"),
        str(tmp_path / "r.parquet"),
        str(tmp_path / "out.parquet"),
    )
    kept = read_provenance(tmp_path / "out.parquet")["params"]["budget"]
    words = [len(r.split()) for r in rat["rationale"]]
    assert kept["kept_share"] == pytest.approx(sum(5 / n for n in words) / 12)
    assert 0.1 < kept["kept_share"] < 0.4 and kept["rows_kept_whole"] == 0

    config = {
        "datasets": {"d": {"source": "jsonl", "files": {"train": str(tmp_path / "train.jsonl")}}},
        "teachers": {
            "palm": {"backend": "precomputed", "datasets": {"d": {"files": {"train": str(palm)}}}}
        },
        "conditions": {
            "keytokens_after": {"k": 500},
            "keytokens_few": {"function": "keytokens_after", "k": 5},
        },
    }
    (p,) = input_problems(config)
    assert p.startswith("'conditions.keytokens_after': k=500 keeps every word of all 12 rationales")
    config["conditions"]["keytokens_after"]["allow_full_budget"] = True
    assert input_problems(config) == []
