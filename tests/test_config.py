import copy

import pytest
import yaml

from cotdistill.config import check_config, teacher_spec, training_spec
from cotdistill.errors import InvalidConfig
from cotdistill.targets import run_dirs

from conftest import REPO

SCHEMA = REPO / "workflow/schemas/config.schema.yaml"
DEFAULT = yaml.safe_load((REPO / "config.yaml").read_text())


def problems(mutate):
    cfg = copy.deepcopy(DEFAULT)
    mutate(cfg)
    with pytest.raises(InvalidConfig) as e:
        check_config(cfg, SCHEMA, source="config.yaml")
    return e.value.problems


def test_default_config_is_valid_and_asks_for_every_condition_and_seed():
    check_config(DEFAULT, SCHEMA)
    assert len(run_dirs(DEFAULT)) == len(DEFAULT["conditions"]) * len(DEFAULT["seeds"]) == 10
    assert {"label_only", "cot_before", "cot_after", "shuffled_before",
            "shuffled_after"} <= set(DEFAULT["conditions"])
    assert len(DEFAULT["seeds"]) >= 2


def test_misspelled_training_key_names_key_and_allowed_keys():
    (p,) = problems(lambda c: c["training"].update(epoch=3))
    assert p.startswith("'training':") and "'epoch' was unexpected" in p and "'epochs'" in p


def test_unknown_condition_function_lists_registered_ones():
    (p,) = problems(lambda c: c["conditions"].update(shuffled_after={"function": "shufled_after"}))
    assert "'conditions.shuffled_after'" in p and "shuffled_after" in p.split("Fix:")[1]


def test_all_problems_are_reported_at_once():
    def mutate(c):
        c["seeds"] = [0, 0]
        c["students"]["tiny-gpt2"]["kind"] = "giant"
    found = problems(mutate)
    assert len(found) == 2
    assert any(p.startswith("'seeds'") for p in found)
    assert any(p.startswith("'students.tiny-gpt2.kind'") and "scratch_gpt2" in p for p in found)


def test_missing_files_and_undefined_datasets_are_caught(tmp_path):
    def mutate(c):
        c["datasets"]["csqa"] = {"source": "jsonl", "files": {"train": str(tmp_path / "nope.jsonl"),
                                                             "test": str(tmp_path / "nope.jsonl")}}
        c["teachers"]["rulebased"]["datasets"]["obqa"] = {}
    found = problems(mutate)
    assert any("datasets.csqa.files.train" in p and "not found" in p for p in found)
    assert any("teachers.rulebased.datasets.obqa" in p and "no dataset 'obqa'" in p for p in found)


def test_derived_specs():
    cfg = copy.deepcopy(DEFAULT)
    cfg["students"]["tiny-gpt2"]["training"] = {"lr": 0.5}
    assert training_spec(cfg, "tiny-gpt2")["lr"] == 0.5
    assert training_spec(cfg, "tiny-gpt2")["epochs"] == DEFAULT["training"]["epochs"]
    assert teacher_spec(cfg, "rulebased", "synthetic") == {"backend": "rule_based"}
