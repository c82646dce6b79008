import pandas as pd
import pytest

from cotdistill.conditions import build_train
from cotdistill.data import load_dataset_split
from cotdistill.data.synthetic import generate_split
from cotdistill.errors import InputError
from cotdistill.teachers import parse_stated_answer, run_teacher


def _jsonl(shared, path):
    """Every row of a real file (122 CommonsenseQA train rows repeat a choice text; the
    workflow skips them by default, these tests check coverage of the whole release)."""
    return load_dataset_split(
        {"source": "jsonl", "files": {"train": str(shared / path)}, "repeated_choices": "keep"},
        "train",
    )


def test_precomputed_real_commonsense_qa_rationales_full_coverage(shared_data):
    data = _jsonl(shared_data, "commonsense_qa/train_rand_split.jsonl")
    spec = {
        "backend": "precomputed",
        "min_coverage": 1.0,
        "files": {"train": str(shared_data / "rationales/commonsense_qa/palm540b.train.jsonl")},
    }
    rat = run_teacher(spec, data, "train")
    assert len(rat) == len(data) == 9741 and rat["id"].tolist() == data["id"].tolist()
    # stated answers parsed ("So the answer is (c) ..."); the data README reports ~75% agreement
    assert 0.745 < rat["teacher_correct"].mean() < 0.765
    assert 0.96 < rat["teacher_answer"].notna().mean() < 0.98  # 2.9% name two letters
    assert rat["prompt_hash"].str.startswith("file:").all()


def test_precomputed_real_openbookqa_duplicate_questions(shared_data):
    """The LLaMA release gives 5 rationales the id of an identical question's twin."""
    data = _jsonl(shared_data, "openbookqa/train.jsonl")
    files = {"train": str(shared_data / "rationales/openbookqa/llama.train.jsonl")}
    with pytest.raises(
        InputError,
        match=r"covers 4952 of 4957.*llama\.train\.jsonl|llama\.train\.jsonl.*covers 4952 of 4957",
    ):
        run_teacher({"backend": "precomputed", "files": files, "min_coverage": 1.0}, data, "train")
    rat = run_teacher(
        {
            "backend": "precomputed",
            "files": files,
            "min_coverage": 1.0,
            "share_identical_questions": True,
        },
        data,
        "train",
    )
    assert len(rat) == 4957 and rat["id"].is_unique
    assert rat["teacher_correct"].mean() > 0.99  # "The answer is D" statements parse


def test_precomputed_csv_and_parquet_with_renamed_columns(tmp_path):
    data = generate_split("train", n_entities=6, max_value=6)
    raw = pd.DataFrame({"qid": data["id"], "why": ["the answer is (a)."] * len(data)})
    for path in (tmp_path / "r.csv", tmp_path / "r.parquet"):
        raw.to_csv(path, index=False) if path.suffix == ".csv" else raw.to_parquet(path)
        rat = run_teacher(
            {
                "backend": "precomputed",
                "files": {"train": str(path)},
                "id_column": "qid",
                "rationale_column": "why",
            },
            data,
            "train",
        )
        assert len(rat) == len(data)
        assert (rat["teacher_answer"] == "A").all()
        assert rat["teacher_correct"].tolist() == (data["label"] == "A").tolist()


def test_precomputed_missing_column_and_empty_rationale_name_the_fix(tmp_path):
    data = generate_split("train", n_entities=6, max_value=6)
    path = tmp_path / "r.csv"
    pd.DataFrame({"id": data["id"], "text": ["x"] * len(data)}).to_csv(path, index=False)
    with pytest.raises(InputError, match="no column 'rationale'.*rationale_column"):
        run_teacher({"backend": "precomputed", "files": {"train": str(path)}}, data, "train")
    texts = ["fine"] * len(data)
    texts[3] = " "
    pd.DataFrame({"id": data["id"], "rationale": texts}).to_csv(path, index=False)
    with pytest.raises(InputError, match="row 5: empty rationale"):  # line 5: after the header
        run_teacher({"backend": "precomputed", "files": {"train": str(path)}}, data, "train")


@pytest.mark.parametrize(
    "text,choices,expect",
    [
        ("So the answer is (c) train station.", ["a", "b", "train station", "d", "e"], "C"),
        ("Plants grow. The answer is D", ["w", "x", "y", "z"], "D"),
        ("The answer is a place where bums live.", ["park", "a place where bums live"], "B"),
        ("So the answer is either (d) rose garden or (e) field.", list("abcde"), None),
        ("the answer is shorter .", ["taller", "shorter"], "B"),
        ("no statement here", ["x", "y"], None),
        ("the answer is (f).", list("abcde"), None),
    ],
)
def test_parse_stated_answer(text, choices, expect):
    assert parse_stated_answer(text, choices) == expect


# The forms published teachers write (issue 21: Mistral-7B-Instruct on CommonsenseQA dev
# opens 43 rationales with a bare letter and hedges in 49), on real questions.
@pytest.mark.parametrize(
    "rationale,expect",
    [
        ("A because a fridge is where milk is kept cold.", "A"),  # a bare leading letter
        ("C - The stapler is kept on the desk.", "C"),
        ("A. Sloths spend most of their lives in trees.", "A"),
        ("(B): a bank is where money is kept.", "B"),
        ("The answer is D or E, depending on the context.", None),  # two letters: no single answer
        ("So the answer is (b) cough and (c) wheeze.", None),
        ("None of the above choices fits the question.", None),  # a decline stays unparsed
        ("I cannot determine the answer from the choices given.", None),
        ("A person would usually keep it in a drawer.", None),  # an article, not a letter
        ("E.g. a shop sells it.", None),
        ("The answer is B because A is too far away.", "B"),  # a second letter, not an alternative
    ],
)
def test_parse_stated_answer_reads_leading_letters_and_refuses_hedges(rationale, expect):
    assert parse_stated_answer(rationale, ["bank", "cough", "wheeze", "drawer", "shop"]) == expect


def test_no_hedged_palm_rationale_counts_as_an_answer(shared_data):
    """On the real PaLM-540B CommonsenseQA train rationales: "(a) ocean or (b) sea" names
    no single answer, and the stated answer agrees with gold for 75.3% (the data's README)."""
    import json
    import re

    from cotdistill.data.loaders import load_jsonl

    data = load_jsonl(shared_data / "commonsense_qa/train_rand_split.jsonl").set_index("id")
    correct = hedged = parsed_hedges = 0
    with open(shared_data / "rationales/commonsense_qa/palm540b.train.jsonl") as f:
        rows = [json.loads(line) for line in f]
    for r in rows:
        ex = data.loc[r["id"]]
        answer = parse_stated_answer(r["rationale"], list(ex["choices"]))
        correct += answer == ex["label"]
        if re.search(r"answer is (?:either )?\([a-e]\)[^.]*\b(?:or|and) \([a-e]\)", r["rationale"]):
            hedged += 1
            parsed_hedges += answer is not None
    assert hedged > 250 and parsed_hedges == 0
    assert round(100 * correct / len(rows), 1) == 75.3


def test_rule_based_teacher_errors_and_only_correct_filter():
    data = generate_split("train")
    rat = run_teacher({"backend": "rule_based", "error_rate": 0.2, "seed": 1}, data, "train")
    wrong = 1 - rat["teacher_correct"].mean()
    assert 0.12 < wrong < 0.28
    # key words by construction: both values, the comparison and the answer word
    words = rat["rationale"].iloc[0].split()
    keys = [words[i] for i in rat["key_word_idx"].iloc[0]]
    assert keys[2] in ("more", "less") and keys[3] in data["choices"].iloc[0]
    kept = build_train("cot_after", {}, data, rat, only_correct=True)
    assert len(kept) == int(rat["teacher_correct"].sum())
    assert len(build_train("cot_after", {}, data, rat)) == len(data)
