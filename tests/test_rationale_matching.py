"""Rationale files a user brings: matched by id or by question text, their coverage
and repeated ids checked before any job (issue 21, items 1, 2 and 9).

The files are derived from the real QuaRel questions in ../shared/data with other ids,
the way published QuaRel rationales carry the original release's ids."""

import json

import pytest

from cotdistill.data.loaders import load_jsonl
from cotdistill.errors import InputError
from cotdistill.inputs import input_problems
from cotdistill.teachers import run_teacher


@pytest.fixture(scope="module")
def quarel(shared_data):
    return load_jsonl(shared_data / "quarel/train.jsonl")


def release_ids(quarel, tmp_path, edit_question=lambda q: q, extra=()) -> str:
    """A rationale file for every QuaRel question under the original release's id scheme,
    its question text as another converter wrote it (``edit_question``)."""
    rows = [
        {
            "id": f"QuaRel_V1_Fr_{i:04d}",
            "question": edit_question(q),
            "choices": " ".join(f"({x}) {c}" for x, c in zip("AB", ch)),
            "rationale": f"{ch[0]} and {ch[1]} differ here. So the answer is ({'AB'[i % 2]}).",
        }
        for i, (q, ch) in enumerate(zip(quarel["question"], quarel["choices"]))
    ]
    path = tmp_path / "mistral.quarel.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in [*rows, *extra]))
    return str(path)


def config_for(shared_data, rationales: str, **options) -> dict:
    return {
        "datasets": {
            "quarel": {
                "source": "jsonl",
                "files": {
                    "train": str(shared_data / "quarel/train.jsonl"),
                    "test": str(shared_data / "quarel/test.jsonl"),
                },
            }
        },
        "teachers": {
            "mistral": {
                "backend": "precomputed",
                "datasets": {"quarel": {"files": {"train": rationales}, **options}},
            }
        },
        "students": {},
    }


def shouting(question: str) -> str:
    """Another release's spelling: upper case, doubled spaces, no final question mark."""
    return "  " + question.upper().replace(" ", "  ").rstrip("?")


def test_a_file_keyed_by_other_ids_stops_before_any_job_and_says_why(shared_data, quarel, tmp_path):
    path = release_ids(quarel, tmp_path)
    for options in ({}, {"min_coverage": 0}):  # 0 would let nothing train: still a problem
        (p,) = input_problems(config_for(shared_data, path, **options))
        assert p.startswith(f"{path}: covers 0 of 625 dataset ids (0.0%")
        assert "two id schemes" in p and "QuaRel_V1_Fr_0000" in p and "quarel-ni-0" in p
        assert "match: question" in p and p.endswith(
            "(teachers.mistral.datasets.quarel.files.train)"
        )


def test_matching_by_question_text_covers_every_question(shared_data, quarel, tmp_path):
    path = release_ids(quarel, tmp_path, shouting)
    config = config_for(shared_data, path, match="question")
    notes = []
    assert input_problems(config, notes=notes) == []
    assert notes == [
        f"{path}: matched by question: 625 of 625 dataset rows (100.0%); 0 of 625 "
        "file rows are for no question of this split "
        "(teachers.mistral.datasets.quarel.files.train)"
    ]
    spec = {"backend": "precomputed", "files": {"train": path}, "match": "question"}
    rat = run_teacher(spec, quarel, "train")
    assert rat["id"].tolist() == quarel["id"].tolist()  # the dataset's ids, in its order
    assert rat["teacher_answer"].tolist() == ["AB"[i % 2] for i in range(625)]
    assert rat.attrs["match"]["matched"] == 625 and rat.attrs["match"]["coverage"] == 1.0


def test_matching_by_question_counts_unmatched_and_ambiguous_rows(shared_data, quarel, tmp_path):
    """A question the dataset does not have, and one question given two rationales: both
    are counted; the ambiguous question is left out rather than guessed."""
    q0, (a, b) = quarel["question"].iloc[0], quarel["choices"].iloc[0]
    extra = [
        {
            "id": "x1",
            "question": "Which is heavier, a feather or a stone?",
            "choices": "(A) feather (B) stone",
            "rationale": "A stone. So the answer is (B).",
        },
        {
            "id": "x2",
            "question": q0.lower(),
            "choices": f"(A) {a} (B) {b}",
            "rationale": "Another reading. So the answer is (A).",
        },
    ]
    path = release_ids(quarel, tmp_path, extra=extra)
    spec = {
        "backend": "precomputed",
        "files": {"train": path},
        "match": "question",
        "choices_column": "choices",
        "min_coverage": 0.99,
    }
    rat = run_teacher(spec, quarel, "train")
    m = rat.attrs["match"]
    assert (m["matched"], m["unmatched_file"], m["ambiguous"], m["file_rows"]) == (624, 1, 1, 627)
    assert quarel["id"].iloc[0] not in set(rat["id"])
    with pytest.raises(
        InputError,
        match=r"covers 624 of 625 dataset ids \(99.8% < min_coverage "
        r"100.0%\).*1 ambiguous.*first missing ids: \['quarel-ni-0'\]",
    ):
        run_teacher({**spec, "min_coverage": 1.0}, quarel, "train")


def test_choices_break_ties_between_questions_that_read_alike(quarel):
    from cotdistill.teachers.matching import match_by_question
    import pandas as pd

    data = pd.DataFrame(
        {
            "id": ["q1", "q2"],
            "question": ["Which is faster?", "which is FASTER"],
            "choices": [["car", "bike"], ["horse", "snail"]],
        }
    )
    raw = pd.DataFrame(
        {
            "id": ["r1", "r2"],
            "question": ["Which is faster", "Which is faster"],
            "choices": ["(A) Horse (B) snail", ["bike", "car"]],
            "rationale": ["A horse runs.", "A car drives."],
            "line": [1, 2],
        }
    )
    rows, report = match_by_question(data, raw, "f.jsonl", choices_column="choices")
    assert dict(zip(rows["id"], rows["rationale"])) == {
        "q1": "A car drives.",
        "q2": "A horse runs.",
    }
    rows, report = match_by_question(data, raw.drop(columns="choices"), "f.jsonl")
    assert len(rows) == 0 and report.ambiguous == 2


def test_repeated_ids_pass_when_identical_and_stop_when_they_conflict(shared_data, tmp_path):
    lines = (shared_data / "quarel/train.jsonl").read_text().splitlines()[:12]
    rows = [
        {"id": json.loads(x)["id"], "rationale": f"Reason {i}. So the answer is (A)."}
        for i, x in enumerate(lines)
    ]
    path = tmp_path / "r.jsonl"
    data = tmp_path / "train.jsonl"
    data.write_text("\n".join(lines) + "\n")
    config = config_for(shared_data, str(path))
    config["datasets"]["quarel"]["files"]["train"] = str(data)
    del config["datasets"]["quarel"]["files"]["test"]

    path.write_text("".join(json.dumps(r) + "\n" for r in [*rows, rows[2]]))  # an exact repeat
    notes = []
    assert input_problems(config, notes=notes) == []
    assert "12 of 12 dataset rows (100.0%)" in notes[0] and "1 exact repeats dropped" in notes[0]

    path.write_text("".join(json.dumps(r) + "\n" for r in [*rows, {**rows[2], "rationale": "No."}]))
    (p,) = input_problems(config)
    assert p.startswith(f"{path}, row 13: id 'quarel-ni-2' repeats row 3 with another rationale")


def test_a_file_for_a_split_the_workflow_does_not_read_is_named(shared_data, quarel, tmp_path):
    config = config_for(shared_data, "unused")
    config["teachers"]["mistral"]["datasets"]["quarel"]["files"] = {"validation": "dev.csv"}
    found = input_problems(config)
    assert any(
        p.startswith("'teachers.mistral.datasets.quarel.files': no file for the train split")
        for p in found
    ), found
    assert any(
        p.startswith(
            "'teachers.mistral.datasets.quarel.files.validation': the workflow "
            "reads rationales for the train and test splits, not 'validation'"
        )
        for p in found
    ), found


def test_a_remembered_check_is_redone_when_a_budget_changes(shared_data, tmp_path):
    """Checks that passed are remembered for unchanged files, but a budget raised past the
    rationales' length must still be caught: the conditions are part of what is remembered."""
    palm = shared_data / "rationales/commonsense_qa/palm540b.train.jsonl"
    lines = (shared_data / "commonsense_qa/train_rand_split.jsonl").read_text().splitlines()[:12]
    (tmp_path / "train.jsonl").write_text("\n".join(lines) + "\n")
    config = {
        "datasets": {"d": {"source": "jsonl", "files": {"train": str(tmp_path / "train.jsonl")}}},
        "teachers": {
            "palm": {"backend": "precomputed", "datasets": {"d": {"files": {"train": str(palm)}}}}
        },
        "conditions": {"randomtokens_after": {"k": 5}},
    }
    cache = tmp_path / "checks.json"
    assert input_problems(config, cache) == [] and cache.exists()
    config["conditions"]["randomtokens_after"]["k"] = 500
    (p,) = input_problems(config, cache)
    assert p.startswith("'conditions.randomtokens_after': k=500 keeps every word")
