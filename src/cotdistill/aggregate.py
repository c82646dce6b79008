"""Collect per-run predictions into tables and a plot.

Accuracies are recomputed from ``predictions.parquet`` rows (not from the
per-run metrics files) so every number in a table traces back to examples.
Intervals are 95% Student-t intervals over seeds.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import pandas as pd

from .plotting import save_figure, sort_by_condition
from .tables import read_table
from .targets import run_identity

# two-sided 95% Student-t quantiles t_{0.975, df}, df = 1..30 (standard table values)
_T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
         2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
         2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042]
KEYS = ["student", "teacher", "dataset", "condition"]
METRICS = {"gen_accuracy": "gen_correct", "choice_accuracy": "choice_correct"}


def t975(df: int) -> float:
    return _T975[df - 1] if df <= len(_T975) else 1.960


def mean_ci(values: Sequence[float]) -> tuple[float, float]:
    """(mean, half-width of the 95% t interval); half-width is NaN for one value."""
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, float("nan")
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    return mean, t975(n - 1) * sd / math.sqrt(n)


def per_run(prediction_paths: Sequence[str]) -> pd.DataFrame:
    """One row per run: its identity (parsed from the path) and accuracies from its rows."""
    rows = []
    for path in prediction_paths:
        identity = run_identity(path)
        pred = read_table(path)
        row = {**identity, "n": len(pred), "predictions": str(path)}
        row.update({name: float(pred[col].mean()) for name, col in METRICS.items()})
        row["gen_parse_rate"] = float(pred["gen_parsed"].mean())
        if "choice_logprobs" in pred:  # one score per choice: chance is the mean of 1/n_choices
            row["chance"] = float((1.0 / pred["choice_logprobs"].map(len)).mean())
        rows.append(row)
    return pd.DataFrame(rows)


def summarise(runs: pd.DataFrame, condition_order: Sequence[str] | None = None) -> pd.DataFrame:
    """Mean and 95% interval over seeds per (student, teacher, dataset, condition)."""
    out = []
    for key, g in runs.groupby(KEYS, sort=False):
        row = dict(zip(KEYS, key))
        row["seeds"] = len(g)
        row["n_test"] = int(g["n"].iloc[0])
        if "chance" in g:
            row["chance"] = float(g["chance"].iloc[0])
        for name in METRICS:
            mean, half = mean_ci(list(g[name]))
            row[name] = mean
            row[f"{name}_ci95"] = half
        out.append(row)
    return sort_by_condition(pd.DataFrame(out), KEYS, condition_order)


def to_markdown(table: pd.DataFrame) -> str:
    def fmt(mean: float, half: float) -> str:
        return f"{100 * mean:.1f}" + ("" if math.isnan(half) else f" ± {100 * half:.1f}")

    head = ("| student | teacher | dataset | condition | seeds | generation acc. (%) "
            "| choice acc. (%) | chance (%) |")
    lines = [head, "|" + "---|" * 8]
    for r in table.to_dict("records"):
        chance = f"{100 * r['chance']:.1f}" if "chance" in r else ""
        lines.append(f"| {r['student']} | {r['teacher']} | {r['dataset']} | {r['condition']} | "
                     f"{r['seeds']} | {fmt(r['gen_accuracy'], r['gen_accuracy_ci95'])} | "
                     f"{fmt(r['choice_accuracy'], r['choice_accuracy_ci95'])} | {chance} |")
    note = ("\nMean over seeds ± half-width of the 95% Student-t interval; "
            "accuracies recomputed from each run's predictions.parquet.\n")
    return "\n".join(lines) + "\n" + note


def plot(table: pd.DataFrame, runs: pd.DataFrame, out: str) -> None:
    """Generation accuracy per condition, one panel per (student, teacher, dataset);
    bars are seed means with 95% intervals, dots are single seeds."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = list(table.groupby(KEYS[:3], sort=False))
    seeds_of = dict(list(runs.groupby(KEYS, sort=False)))  # (student, teacher, dataset, condition) -> runs
    fig, axes = plt.subplots(1, len(groups), figsize=(1.2 + 1.1 * table["condition"].nunique()
                                                      * len(groups), 3.6), squeeze=False)
    for ax, (key, g) in zip(axes[0], groups):
        x = range(len(g))
        err = g["gen_accuracy_ci95"].fillna(0) * 100
        ax.bar(x, g["gen_accuracy"] * 100, yerr=err, capsize=3, color="#4c72b0", alpha=0.8)
        for i, c in enumerate(g["condition"]):
            acc = seeds_of[(*key, c)]["gen_accuracy"] * 100
            ax.scatter([i] * len(acc), acc, color="black", s=10, zorder=3)
        if "chance" in g:
            ax.axhline(100 * g["chance"].iloc[0], ls="--", color="grey", lw=1, label="chance")
            ax.legend(loc="lower right", fontsize=8)
        ax.set_xticks(list(x), g["condition"], rotation=35, ha="right")
        ax.set_ylim(0, 100)
        ax.set_ylabel("generation accuracy (%)")
        ax.set_title(" / ".join(key), fontsize=9)
    save_figure(fig, out)


def aggregate(prediction_paths: Sequence[str], out_csv: str, out_md: str, out_runs: str,
              out_plot: str, condition_order: Sequence[str] | None = None) -> pd.DataFrame:
    runs = per_run(prediction_paths)
    table = summarise(runs, condition_order)
    for path in (out_csv, out_md, out_runs):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    runs.to_csv(out_runs, index=False)
    table.to_csv(out_csv, index=False)
    Path(out_md).write_text(to_markdown(table))
    plot(table, runs, out_plot)
    return table
