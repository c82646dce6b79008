"""The summary's account of what the students trained on, from the runs' own files."""

import pandas as pd


from cotdistill.runs import stamp
from cotdistill.summary import TARGETS_NOTE, coverage_warnings, rationale_table, targets_table
from cotdistill.tables import markdown, write_table


def test_training_targets_count_cut_rows_and_average_the_answer_share_over_draws(tmp_path):
    run = "train_log-{c}-{seed}.parquet"
    table = "results/conditions/t/d/{c}/train.draw{d}.parquet"
    logs, tables = [], []
    for c, per_draw in (("shuffled_after", {0: 0.5, 1: 0.7}), ("cot_after", {0: 0.8})):
        for seed in (0, 1):
            path = tmp_path / run.format(c=c, seed=seed)
            ident = {"student": "s", "teacher": "t", "dataset": "d", "condition": c, "seed": seed}
            write_table(
                stamp(pd.DataFrame({"step": [1]}), ident),
                path,
                params={"examples": 10, "truncated": seed},
            )
            logs.append(str(path))
        for d, share in per_draw.items():
            path = tmp_path / table.format(c=c, d=d)
            budget = {"kept_share": share / 2} if c == "shuffled_after" else None
            write_table(
                pd.DataFrame({"id": ["a"]}),
                path,
                params={"restates_answer": share, "budget": budget},
            )
            tables.append(str(path))
    md = markdown(targets_table(logs, tables), TARGETS_NOTE)
    assert "| s | t | d | shuffled_after | 10 | 0 / 1 | 60.0 | 30.0 |" in md  # (0.5 + 0.7) / 2
    assert "| s | t | d | cot_after | 10 | 0 / 1 | 80.0 |  |" in md


def test_the_summary_says_how_many_questions_a_teacher_covered_and_warns_when_not_all(tmp_path):
    """A teacher that covered 69 of 625 QuaRel questions: every condition trained on 69
    rows while the data table said 625; the rationale table and a warning now say so."""
    from cotdistill.stages import teacher_coverage

    data = pd.DataFrame({"id": [f"q{i}" for i in range(625)]})
    rat = pd.DataFrame(
        {
            "id": [f"q{i}" for i in range(69)],
            "rationale": ["So the answer is (A)."] * 69,
            "teacher_answer": ["A"] * 60 + [None] * 9,
            "teacher_correct": [True] * 50 + [False] * 19,
        }
    )
    rat.attrs["match"] = {"by": "question", "matched": 69}
    path = tmp_path / "results/rationales/mistral/quarel/train.parquet"
    write_table(rat, path, params={"coverage": teacher_coverage(data, rat)})
    table = rationale_table([str(path)])
    row = table.iloc[0].to_dict()
    assert (row["questions"], row["covered"], row["coverage (%)"], row["matched by"]) == (
        625,
        69,
        "11.0",
        "question",
    )
    assert (row["teacher correct (%)"], row["answer unparsed (%)"]) == ("72.5", "13.0")
    (warning,) = coverage_warnings(table)
    assert warning.startswith(
        "mistral / quarel: the teacher's rationales cover 69 of 625 "
        "training questions (11.0%). Every condition, label_only too, "
        "trains on these 69 only"
    )
    write_table(rat, path, params={"coverage": teacher_coverage(data.iloc[:69], rat)})
    assert coverage_warnings(rationale_table([str(path)])) == []
