import json

import pytest

from cotdistill.data import load_dataset_split
from cotdistill.data.loaders import load_hub, load_jsonl, subsample
from cotdistill.data.synthetic import generate_split
from cotdistill.errors import InputError

from conftest import FIXTURES


@pytest.mark.parametrize(
    "path,rows,n_choices",
    [
        ("commonsense_qa/train_rand_split.jsonl", 9741, 5),
        ("commonsense_qa/dev_rand_split.jsonl", 1221, 5),
        ("openbookqa/train.jsonl", 4957, 4),
        ("openbookqa/test.jsonl", 500, 4),
    ],
)
def test_real_official_jsonl_loads_in_normalised_schema(shared_data, path, rows, n_choices):
    df = load_jsonl(shared_data / path)
    assert len(df) == rows and df["id"].is_unique
    assert list(df.columns[:5]) == ["id", "question", "choices", "label", "answer"]
    assert set(df["choices"].map(len)) == {n_choices}
    assert all(c[ord(y) - 65] == a for c, y, a in zip(df["choices"], df["label"], df["answer"]))


def test_real_commonsense_qa_first_row(shared_data):
    row = load_jsonl(shared_data / "commonsense_qa/train_rand_split.jsonl").iloc[0]
    assert row["id"] == "075e483d21c29a511267ef62bedc0461"
    assert row["label"] == "A" and row["answer"] == "ignore"


def _hub_loader(fixture):
    import datasets

    def load(name, config, split):
        return datasets.load_dataset("json", data_files=str(FIXTURES / fixture), split="train")

    return load


@pytest.mark.parametrize(
    "name,config,fixture,expect",
    [
        ("tau/commonsense_qa", None, "hub_commonsense_qa.jsonl", ("hubcsqa-1", 5, "B", "key hook")),
        ("allenai/openbookqa", "main", "hub_openbookqa.jsonl", ("hubobqa-1", 4, "B", "melt")),
        ("allenai/quarel", None, "hub_quarel.jsonl", ("hubquarel-1", 2, "B", "paved road")),
    ],
)
def test_hub_schemas_map_to_normalised(name, config, fixture, expect):
    df = load_hub(name, "train", config, loader=_hub_loader(fixture))
    rid, n, label, answer = expect
    row = df.set_index("id").loc[rid]
    assert (len(row["choices"]), row["label"], row["answer"]) == (n, label, answer)
    assert "(A)" not in row["question"]  # QuaRel's embedded choices are cut from the stem


def test_generic_jsonl_loader_reads_hub_schema_files_too():
    df = load_jsonl(FIXTURES / "hub_openbookqa.jsonl")
    assert df.set_index("id").loc["hubobqa-2", "answer"] == "sunlight"


def test_bad_row_names_file_row_and_fix(tmp_path):
    good = {
        "id": "x1",
        "question": {
            "stem": "q",
            "choices": [{"label": "A", "text": "a"}, {"label": "B", "text": "b"}],
        },
        "answerKey": "A",
    }
    bad = dict(good, id="x2", answerKey="Z")
    path = tmp_path / "broken.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(InputError) as e:
        load_jsonl(path)
    assert e.value.row == 2 and "broken.jsonl" in str(e.value) and "Fix:" in str(e.value)
    path.write_text(json.dumps(good) + "\n{not json\n")
    with pytest.raises(InputError, match="row 2: not valid JSON"):
        load_jsonl(path)


def test_synthetic_is_deterministic_and_test_pairs_are_unseen():
    a, b = generate_split("train", seed=3), generate_split("train", seed=3)
    assert a.equals(b)
    assert not generate_split("train", seed=4)["question"].equals(a["question"])
    test = generate_split("test", seed=3)

    def pairs(df):
        return {frozenset(json.loads(k)["entities"]) for k in df["key_facts"]}

    assert pairs(test) and not pairs(test) & pairs(a)
    assert abs(a["label"].eq("A").mean() - 0.5) < 0.1  # balanced labels: chance is 50%


def test_synthetic_labels_follow_hidden_values():
    df = generate_split("train")
    for facts, label, q in zip(df["key_facts"], df["label"], df["question"]):
        va, vb = json.loads(facts)["values"]
        assert label == ("A" if va > vb else "B"), q


def test_synthetic_attributes_choose_what_questions_ask():
    both = generate_split("train", n_entities=10, max_value=10)
    height = generate_split("train", n_entities=10, max_value=10, attributes=["height"])
    assert {json.loads(k)["attribute"] for k in both["key_facts"]} == {"height", "weight"}
    assert {json.loads(k)["attribute"] for k in height["key_facts"]} == {"height"}
    assert len(height) * 2 == len(both)
    assert both.equals(
        generate_split("train", n_entities=10, max_value=10, attributes=["weight", "height"])
    )
    with pytest.raises(ValueError, match="'colour'.*use a non-empty list"):
        generate_split("train", attributes=["colour"])


def test_subset_is_seeded_and_sized(shared_data):
    spec = {
        "source": "jsonl",
        "files": {"train": str(shared_data / "openbookqa/train.jsonl")},
        "subset": {"train": 50, "seed": 1},
    }
    a, b = load_dataset_split(spec, "train"), load_dataset_split(spec, "train")
    assert len(a) == 50 and a["id"].tolist() == b["id"].tolist()
    assert subsample(a, None, 0) is a
