"""A run's identity travels in its own tables, never in their paths."""

import pandas as pd
import pytest

from cotdistill.aggregate import per_run
from cotdistill.errors import InputError
from cotdistill.runs import KEYS, identity, read_identity, stamp
from cotdistill.tables import write_table

RUN = {"student": "s", "teacher": "t", "dataset": "d", "condition": "cot_before", "seed": "2"}


def test_a_stamped_table_leads_with_the_run_keys_and_reads_back_whatever_its_path(tmp_path):
    rows = pd.DataFrame({"id": ["a", "b"], "gen_correct": [True, False]})
    stamped = stamp(rows, RUN)
    assert list(stamped.columns) == [*KEYS, "id", "gen_correct"]
    path = tmp_path / "renamed" / "x.parquet"  # nothing of the run in its path
    write_table(stamped, path)
    assert read_identity(path) == {**RUN, "seed": 2}  # the seed is a number again
    assert stamp(rows, None) is rows  # a caller with no run writes the table as it is


def test_stamping_twice_replaces_the_old_identity_instead_of_doubling_it():
    once = stamp(pd.DataFrame({"id": ["a"]}), RUN)
    twice = stamp(once, {**RUN, "seed": 5})
    assert list(twice.columns) == [*KEYS, "id"] and twice["seed"].tolist() == [5]


def test_an_identity_lacking_a_key_is_refused():
    with pytest.raises(ValueError, match="condition"):
        identity({k: v for k, v in RUN.items() if k != "condition"})


def test_a_predictions_file_from_before_identities_names_itself_and_the_rerun(tmp_path):
    path = tmp_path / "results/runs/s/t/d/cot_after/seed0/predictions.parquet"
    write_table(pd.DataFrame({"id": ["a"], "gen_correct": [True]}), path)
    with pytest.raises(InputError) as err:
        per_run([str(path)])
    message = str(err.value)
    assert str(path) in message and "records no run identity" in message
    assert "--forcerun train evaluate" in message
