"""The summary's account of what the students trained on, from the runs' own files."""

import pandas as pd

from cotdistill.summary import targets_section
from cotdistill.tables import write_table


def test_training_targets_count_cut_rows_and_average_the_answer_share_over_draws(tmp_path):
    run = "results/runs/s/t/d/{c}/seed{seed}/train_log.parquet"
    table = "results/conditions/t/d/{c}/train.draw{d}.parquet"
    logs, tables = [], []
    for c, per_draw in (("shuffled_after", {0: 0.5, 1: 0.7}), ("cot_after", {0: 0.8})):
        for seed in (0, 1):
            path = tmp_path / run.format(c=c, seed=seed)
            write_table(pd.DataFrame({"step": [1]}), path,
                        params={"examples": 10, "truncated": seed})
            logs.append(str(path))
        for d, share in per_draw.items():
            path = tmp_path / table.format(c=c, d=d)
            write_table(pd.DataFrame({"id": ["a"]}), path, params={"restates_answer": share})
            tables.append(str(path))
    md = targets_section(logs, tables)
    assert "| s | t | d | shuffled_after | 10 | 0 / 1 | 60.0 |" in md   # (0.5 + 0.7) / 2
    assert "| s | t | d | cot_after | 10 | 0 / 1 | 80.0 |" in md
