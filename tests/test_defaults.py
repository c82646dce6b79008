"""One home for every default: the config schema. Each key the library reads has its
default there (a ``default:`` beside its ``description``); the library's config
dataclasses and named defaults must equal it, and no rule, script or library module
may carry a literal default of its own for a schema key."""

import ast
import dataclasses
import re
from pathlib import Path

import pytest
import yaml

from cotdistill import config as C
from cotdistill import resources, students
from cotdistill.attribution.attributor import IGConfig
from cotdistill.config import fill_defaults, schema_defaults
from cotdistill.data import loaders
from cotdistill.evaluate import EvalConfig
from cotdistill.lens.run import LensConfig
from cotdistill.lens.tuned import TunedLensConfig
from cotdistill.train import TrainConfig
from cotdistill.verdicts import Settings

REPO = Path(__file__).resolve().parents[1]
SCHEMA_PATH = REPO / "workflow/schemas/config.schema.yaml"
SCHEMA = yaml.safe_load(SCHEMA_PATH.read_text())
PROPS = SCHEMA["properties"]
LENS = PROPS["lens"]["oneOf"][1]
ATTRIBUTION = PROPS["attribution"]["additionalProperties"]
STUDENT = PROPS["students"]["additionalProperties"]


def field_defaults(cls) -> dict:
    out = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory()
    return out


# (dataclass, its schema section, fields set elsewhere than that section)
DATACLASSES = [
    (TrainConfig, SCHEMA["$defs"]["training"], {"threads", "checkpoint_every"}),
    (EvalConfig, PROPS["evaluation"], set()),
    (LensConfig, LENS, {"tuned"}),
    (TunedLensConfig, LENS["properties"]["tuned"]["oneOf"][1], set()),
    (IGConfig, ATTRIBUTION, set()),
    (Settings, PROPS["verdicts"], set()),
]


@pytest.mark.parametrize(
    "cls,section,elsewhere", DATACLASSES, ids=lambda x: getattr(x, "__name__", "")
)
def test_a_config_dataclass_has_the_schema_s_keys_and_defaults(cls, section, elsewhere):
    fields = field_defaults(cls)
    mine = {k: v for k, v in fields.items() if k not in elsewhere}
    declared = schema_defaults(section)
    undeclared = set(mine) - set(section["properties"])
    assert undeclared == set(), f"{cls.__name__} fields the schema does not describe"
    assert {k: declared.get(k, "<no default in the schema>") for k in mine} == mine


def test_every_option_of_a_dataclass_backed_section_has_a_default():
    for cls, section, _ in DATACLASSES:
        nested = {"tuned", "method", "model", "emergence"}  # sections or read by config.py
        missing = set(section["properties"]) - set(schema_defaults(section)) - nested
        assert missing == set(), f"{cls.__name__}: schema keys with no default: {missing}"


def test_defaults_read_outside_the_dataclasses_equal_the_schema_s():
    top = schema_defaults(SCHEMA)
    assert TrainConfig().checkpoint_every == top["checkpoint_every"] == 500
    assert C.results_dir({}) == top["results"]
    assert top["keep_weights"] is False
    assert C.lens_emergence({}) == schema_defaults(LENS)["emergence"]
    assert C.ATTRIBUTION_METHOD == schema_defaults(ATTRIBUTION)["method"]
    assert C.ATTRIBUTOR_DEFAULT == schema_defaults(ATTRIBUTION)["model"]
    student = schema_defaults(STUDENT)
    assert students.SCRATCH_DEFAULTS == student["architecture"]
    assert students.DTYPE == student["dtype"]
    assert students.LORA_DEFAULTS == schema_defaults(STUDENT["properties"]["lora"])
    dataset = schema_defaults(PROPS["datasets"]["additionalProperties"])
    assert loaders.REPEATED_CHOICES == dataset["repeated_choices"]
    subset = PROPS["datasets"]["additionalProperties"]["properties"]["subset"]
    assert loaders.SUBSET_DEFAULTS == schema_defaults(subset)
    for rule, n in schema_defaults(PROPS["threads"]).items():
        assert resources.threads({}, rule) == n
    assert schema_defaults(PROPS["resources"]) == resources.DEFAULTS  # every rule's


def test_the_workflow_fills_top_level_defaults_and_keeps_what_the_config_says():
    config = fill_defaults({"checkpoint_every": 7, "training": {"lr": 0.1}}, SCHEMA_PATH)
    assert config["checkpoint_every"] == 7 and config["keep_weights"] is False
    assert config["results"] == "results"
    assert config["training"] == {"lr": 0.1}  # a section feeding params stays as written


# ---- no default of its own: a literal ``.get("schema key", value)`` -----------------


def defaulted_keys(node, out=None) -> set[str]:
    """Every key anywhere in the schema that declares a default."""
    out = set() if out is None else out
    if isinstance(node, dict):
        for key, prop in (node.get("properties") or {}).items():
            if isinstance(prop, dict) and "default" in prop:
                out.add(key)
        for value in node.values():
            defaulted_keys(value, out)
    elif isinstance(node, list):
        for value in node:
            defaulted_keys(value, out)
    return out


# keys a schema section shares with unrelated dicts the library reads (a condition's
# params, a teacher's options, a table's provenance): a .get of them is not a config read
SHARED_NAMES = {"seed", "device", "dtype", "batch_size", "model", "max_length"}
# reads of a table's provenance that share a schema key's name
NOT_CONFIG = {
    ("src/cotdistill/data/counts.py", "repeated_choices"),  # rows skipped, counted
    ("src/cotdistill/summary.py", "examples"),  # a teacher table's match counts
}
GET = re.compile(r"""\.get\(\s*["']([a-z_]+)["']\s*,\s*([^()\s][^()]*?)\s*\)""")


def literal_gets(path: Path) -> list[tuple[int, str, str]]:
    """(line, key, default) of each .get("key", <literal>) in a Python or rule file."""
    if path.suffix == ".py":
        found = []
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "get"
                and len(node.args) == 2
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[1], ast.Constant)
                and node.args[1].value is not None
            ):
                found.append((node.lineno, node.args[0].value, repr(node.args[1].value)))
        return found
    return [
        (text.count("\n", 0, m.start()) + 1, m[1], m[2])
        for text in [path.read_text()]
        for m in GET.finditer(text)
        if m[2] != "None"
    ]


def test_no_rule_script_or_module_has_a_literal_default_for_a_schema_key():
    keys = defaulted_keys(SCHEMA) - SHARED_NAMES
    files = [
        *sorted((REPO / "src/cotdistill").rglob("*.py")),
        *sorted((REPO / "workflow/scripts").glob("*.py")),
        *sorted((REPO / "workflow/rules").glob("*.smk")),
        REPO / "Snakefile",
    ]
    own = [
        f"{path.relative_to(REPO)}:{line}: .get({key!r}, {default})"
        for path in files
        for line, key, default in literal_gets(path)
        if key in keys and (str(path.relative_to(REPO)), key) not in NOT_CONFIG
    ]
    assert own == []


def test_the_scan_finds_a_literal_default(tmp_path):
    sample = tmp_path / "train_student.py"
    sample.write_text('x = snakemake.config.get("checkpoint_every", 500)\n')
    assert literal_gets(sample) == [(1, "checkpoint_every", "500")]
    rule = tmp_path / "x.smk"
    rule.write_text('    only=lambda wc: config["teachers"][wc.t].get("only_correct", False),\n')
    assert literal_gets(rule) == [(1, "only_correct", "False")]


def test_config_readme_is_the_schema_s_key_table_as_generated_now():
    from cotdistill.config_docs import markdown

    written = (REPO / "config/README.md").read_text()
    assert written == markdown(SCHEMA), (
        "config/README.md differs from the schema: "
        "python -m cotdistill.config_docs > config/README.md"
    )
    assert "| `checkpoint_every` | `500` |" in written
    assert "| `training.lr` | `0.001` | AdamW peak learning rate |" in written
