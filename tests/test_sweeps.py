"""Sweeps: one config entry, a family of conditions; their curves and the smallest budget
that keeps the rationale's benefit (issue 23)."""

import copy

import numpy as np
import pandas as pd
import pytest
import yaml

from cotdistill import curves, sweeps
from cotdistill.config import check_config
from cotdistill.errors import InvalidConfig
from cotdistill.verdicts import SUPPORTED

from conftest import REPO

SCHEMA = REPO / "workflow/schemas/config.schema.yaml"
QUICKSTART = yaml.safe_load((REPO / "config.yaml").read_text())


def test_a_sweep_expands_into_named_conditions_that_share_their_base():
    config = {
        "conditions": {"label_only": {}, "keytokens_after": {"k": 4, "scores": "ig"}},
        "sweeps": {
            "keytokens_after": {"k": [1, 4, 6], "fraction": [0.5]},
            "masked_after": {"fraction": [0.25]},
        },
    }
    expanded = sweeps.expand(config)
    assert list(expanded) == [
        "label_only",
        "keytokens_after",
        "keytokens_after@k=1",
        "keytokens_after@k=6",
        "keytokens_after@fraction=0.5",
        "masked_after@fraction=0.25",
    ]
    # the base's other params (its score source) carry over; k and fraction exclude each other
    assert expanded["keytokens_after@k=1"] == {
        "k": 1,
        "scores": "ig",
        "function": "keytokens_after",
    }
    assert expanded["keytokens_after@fraction=0.5"] == {
        "scores": "ig",
        "function": "keytokens_after",
        "fraction": 0.5,
    }
    assert expanded["masked_after@fraction=0.25"] == {"function": "masked_after", "fraction": 0.25}
    # k = 4 is the base condition itself: trained once, under its own name
    assert [p.condition for p in sweeps.points(config)][1] == "keytokens_after"
    import re

    assert all(re.fullmatch(sweeps.CONDITION_NAME, name) for name in expanded)


def test_sweep_mistakes_are_config_problems_before_any_job():
    def problems(sweep):
        config = copy.deepcopy(QUICKSTART)
        config["sweeps"] = sweep
        with pytest.raises(InvalidConfig) as e:
            check_config(config, SCHEMA, source="config.yaml")
        return e.value.problems

    (p,) = problems({"keytokens": {"k": [1, 2]}})
    assert p.startswith("'sweeps.keytokens': neither a condition of this config nor a registered")
    (p,) = problems({"randomtokens_after": {"k": [2, 0]}})
    assert p.startswith("'sweeps.randomtokens_after.k': k=0 is not a positive integer")
    (p,) = problems({"randomtokens_after": {"k": []}})
    assert p.startswith("'sweeps.randomtokens_after.k': [] should be non-empty")
    (p,) = problems(
        {"masked_after": {"fraction": [0.5]}, "keytokens_after": {"k": [1]}}
        | {"masked_after": {"fraction": [0.5, 0.5]}}
    )
    assert "a value is repeated" in p
    config = copy.deepcopy(QUICKSTART)
    config["sweeps"] = {"keytokens_after": {"k": [1, 2]}, "masked_after": {"fraction": [0.5]}}
    check_config(config, SCHEMA)  # the points' score source is the config's one entry
    del config["attribution"]
    with pytest.raises(InvalidConfig, match=r"'conditions.keytokens_after@k=1.scores'"):
        check_config(config, SCHEMA)


def _matrices(rates: dict, n=1500, seeds=3, seed=0) -> dict:
    """Correctness matrices with the given accuracy per condition (independent questions)."""
    rng = np.random.default_rng(seed)
    out = {}
    for condition, rate in rates.items():
        correct = rng.random((seeds, n)) < rate
        out[("s", "t", "d", condition)] = {
            "gen_accuracy": correct,
            "choice_accuracy": correct,
            "gen_parsed": np.ones_like(correct),
            "chance": np.full(n, 0.5),
        }
    return out


def _points(rates):
    config = {
        "conditions": {"label_only": {}, "cot_after": {}},
        "sweeps": {
            "keytokens_after": {"k": [1, 2, 3, 6]},
            "randomtokens_after": {"k": [1, 3, 6, 10]},
        },
    }
    points = sweeps.points(config)
    kept = {("t", "d", p.condition): min(1.0, p.value / 18) for p in points}
    return points, kept


# accuracy per condition: key tokens reach cot_after at k = 3, random tokens at k = 10
RATES = {
    "label_only": 0.55,
    "cot_after": 0.85,
    "keytokens_after@k=1": 0.6,
    "keytokens_after@k=2": 0.7,
    "keytokens_after@k=3": 0.85,
    "keytokens_after@k=6": 0.86,
    "randomtokens_after@k=1": 0.56,
    # a fluke at k=3 would not be reached: k=6 fails first, and testing stops there
    "randomtokens_after@k=3": 0.6,
    "randomtokens_after@k=6": 0.62,
    "randomtokens_after@k=10": 0.85,
}


def test_the_smallest_budget_that_keeps_the_benefit_is_found_in_a_fixed_sequence():
    rates = dict(RATES)
    points, kept = _points(rates)
    table = curves.sweep_table(_matrices(rates), points, kept)
    verdicts = dict(zip(table["condition"], table["verdict"]))
    assert verdicts["keytokens_after@k=3"] == verdicts["keytokens_after@k=6"] == SUPPORTED
    assert verdicts["keytokens_after@k=2"] == "contradicted"
    assert verdicts["keytokens_after@k=1"] == "not tested"
    assert verdicts["randomtokens_after@k=10"] == SUPPORTED
    assert verdicts["randomtokens_after@k=6"] == "contradicted"
    smallest = curves.smallest_budgets(table, points)
    assert smallest["keeps the benefit from"].tolist() == [
        "k = 3 (17% of the words)",
        "k = 10 (56% of the words)",
    ]
    (line,) = curves.sentence(smallest)
    assert line == (
        "s / t / d: key tokens (k): k = 3 (17% of the words); "
        "random tokens (k): k = 10 (56% of the words)"
    )

    rates["randomtokens_after@k=10"] = 0.6
    table = curves.sweep_table(_matrices(rates), points, kept)
    assert curves.smallest_budgets(table, points)["keeps the benefit from"].tolist()[1] == (
        "not reached within the sweep (up to k = 10)"
    )


def test_no_gain_to_keep_means_no_budget_is_judged():
    rates = {
        "label_only": 0.7,
        "cot_after": 0.7,
        "keytokens_after@k=1": 0.7,
        "keytokens_after@k=2": 0.7,
        "keytokens_after@k=3": 0.7,
        "keytokens_after@k=6": 0.7,
    }
    points, kept = _points(rates)
    table = curves.sweep_table(_matrices(rates, seed=3), points, kept)
    assert set(table["verdict"]) == {"not judged"}
    (result,) = curves.smallest_budgets(table, points)["keeps the benefit from"]
    assert result.startswith("not judged: the rationale brings no measurable gain here")


def test_the_curve_plot_draws_every_sweep_and_reference(tmp_path):
    rates = {**RATES, "answer_text_after": 0.7}
    points, kept = _points(rates)
    matrices = _matrices(rates)
    table = curves.sweep_table(matrices, points, kept)
    refs = curves.reference_lines(matrices, ("s", "t", "d"), "gen_accuracy")
    assert list(refs) == ["label_only", "cot_after", "answer_text_after"]
    out = tmp_path / "curve.png"
    curves.plot(table, refs, ("s", "t", "d"), points, str(out))
    from PIL import Image

    assert Image.open(out).size[0] > 500
    shown = curves.display(table)
    assert shown.loc[0, "point"] == "k = 1" and shown.loc[0, "budget (% of words)"] == "5.6"
    assert isinstance(shown, pd.DataFrame) and len(shown) == 8
