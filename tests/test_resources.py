"""Per-rule threads and resources: keyed by the rule names a profile uses, every rule
has defaults, and the config overrides them rule by rule."""

import re
from pathlib import Path

import pytest
import yaml

from cotdistill import resources

ROOT = Path(__file__).resolve().parents[1]
RULES = {
    m
    for f in (ROOT / "workflow/rules").glob("*.smk")
    for m in re.findall(r"^rule (\w+):", f.read_text(), re.M)
}
SCHEMA = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())


def test_every_rule_has_defaults_and_the_schema_names_exactly_the_rules():
    assert RULES == set(resources.DEFAULTS)
    assert set(SCHEMA["properties"]["resources"]["properties"]) == RULES
    assert set(SCHEMA["properties"]["threads"]["properties"]) == set(resources.THREADED_RULES)


def test_every_rule_declares_its_resources_by_its_own_name():
    for f in (ROOT / "workflow/rules").glob("*.smk"):
        for name, body in re.findall(
            r"^rule (\w+):\n(.*?)(?=^rule |\Z)", f.read_text(), re.M | re.S
        ):
            assert f'rule_resources("{name}")' in body, f"{f.name}: rule {name}"
            if name in resources.THREADED_RULES:
                assert f'rule_threads("{name}")' in body, f"{f.name}: rule {name}"


def test_the_config_overrides_defaults_per_rule():
    config = {"resources": {"train": {"mem_mb": 64000, "gpu": 1}}, "threads": {"evaluate": 4}}
    assert resources.resources(config, "train") == {"mem_mb": 64000, "runtime": 480, "gpu": 1}
    assert resources.resources(config, "evaluate") == resources.DEFAULTS["evaluate"]
    assert resources.threads(config, "evaluate") == 4 and resources.threads(config, "train") == 1
    with pytest.raises(KeyError):
        resources.threads(config, "aggregate")
