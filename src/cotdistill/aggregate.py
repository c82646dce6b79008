"""Collect per-run predictions into accuracy and comparison tables and a plot.

Accuracies are recomputed from ``predictions.parquet`` rows (not from the
per-run metrics files) so every number in a table traces back to examples.
Intervals and tests come from ``cotdistill.stats``: Welch/t composite intervals
over seeds and test examples, McNemar's exact test per seed and Holm's correction.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import logging

import numpy as np
import pandas as pd

from . import runs as run_keys
from . import stats
from .verdicts import claim_pairs
from .plotting import save_figure, sort_by_condition, write_html
from .tables import latex, markdown, read_table

log = logging.getLogger(__name__)
KEYS = list(run_keys.KEYS[:4])  # a run group: every seed of one condition
UNIT = list(run_keys.UNIT)
METRICS = {"gen_accuracy": "gen_correct", "choice_accuracy": "choice_correct"}
METRIC_NAMES = {"gen_accuracy": "generation", "choice_accuracy": "choice"}
REFERENCES = ("label_only", "cot_after")  # every condition is compared with these


def per_run(prediction_paths: Sequence[str]) -> pd.DataFrame:
    """One row per run: its identity (stamped on its predictions by the evaluate job)
    and accuracies from its rows."""
    rows = []
    for path in prediction_paths:
        identity = run_keys.read_identity(path)
        pred = read_table(path)
        row = {**identity, "n": len(pred), "predictions": str(path)}
        row.update({name: float(pred[col].mean()) for name, col in METRICS.items()})
        row["gen_parse_rate"] = float(pred["gen_parsed"].mean())
        if "choice_logprobs" in pred:  # one score per choice: chance is the mean of 1/n_choices
            row["chance"] = float((1.0 / pred["choice_logprobs"].map(len)).mean())
        rows.append(row)
    return pd.DataFrame(rows)


def correctness(runs: pd.DataFrame) -> dict[tuple, dict[str, np.ndarray]]:
    """(student, teacher, dataset, condition) -> metric -> (seeds, examples) matrix,
    seeds in ascending order, examples in the order of the unit's first run; also
    ``gen_parsed``: whether the generated text held a valid answer, and ``chance``:
    (examples,) the chance accuracy of each question."""
    out: dict[tuple, dict[str, np.ndarray]] = {}
    order: dict[tuple, list] = {}
    for key, g in runs.sort_values("seed").groupby(KEYS, sort=False):
        mats: dict[str, list] = {m: [] for m in [*METRICS, "gen_parsed"]}
        for path in g["predictions"]:
            pred = read_table(path).set_index("id")
            ids = order.setdefault(key[:3], list(pred.index))
            if sorted(ids) != sorted(pred.index):
                raise ValueError(
                    f"{path}: its test examples differ from the other runs of "
                    f"{'/'.join(key[:3])}; evaluate every run on the same test split"
                )
            for metric, col in [*METRICS.items(), ("gen_parsed", "gen_parsed")]:
                mats[metric].append(pred.loc[ids, col].to_numpy(dtype=bool))
        out[key] = {m: np.vstack(v) for m, v in mats.items()}
        if "choice_logprobs" in pred:  # (examples,) chance of each question: 1 / its choices
            out[key]["chance"] = 1.0 / pred.loc[ids, "choice_logprobs"].map(len).to_numpy(float)
    return out


def summarise(
    runs: pd.DataFrame, condition_order: Sequence[str] | None = None, matrices: dict | None = None
) -> pd.DataFrame:
    """Per (student, teacher, dataset, condition): mean accuracy over seeds and
    examples, its 95% Welch composite interval, and each seed's accuracy."""
    matrices = matrices if matrices is not None else correctness(runs)
    out = []
    for key, g in runs.sort_values("seed").groupby(KEYS, sort=False):
        row = dict(zip(KEYS, key))
        row["seeds"] = len(g)
        row["n_test"] = int(g["n"].iloc[0])
        if "chance" in g:
            row["chance"] = float(g["chance"].iloc[0])
        for name in METRICS:
            iv = stats.accuracy_interval(matrices[key][name])
            row[name], row[f"{name}_low"], row[f"{name}_high"] = iv.estimate, iv.low, iv.high
            row[f"{name}_per_seed"] = " / ".join(f"{100 * v:.1f}" for v in g[name])
        out.append(row)
    return sort_by_condition(pd.DataFrame(out), KEYS, condition_order)


def compare(
    matrices: dict,
    condition_order: Sequence[str] | None = None,
    references: Sequence[str] = REFERENCES,
    pairs: Sequence[tuple[str, str]] = (),
) -> pd.DataFrame:
    """Every condition against each reference condition of its unit, and each
    (condition, reference) of ``pairs``, per metric: the paired difference with
    its Welch composite interval, McNemar's exact test per seed (seed i against seed
    i), and Holm-adjusted p-values. Holm's family is every McNemar test of one
    (student, teacher, dataset, metric)."""
    wanted = []
    for student, teacher, dataset, condition in matrices:
        for ref in references:
            wanted.append(((student, teacher, dataset), condition, ref))
    units = list(dict.fromkeys(key[:3] for key in matrices))
    wanted += [(unit, a, b) for unit in units for a, b in pairs]
    rows = []
    for unit, condition, ref in dict.fromkeys(wanted):
        mats, other = matrices.get((*unit, condition)), matrices.get((*unit, ref))
        if mats is None or other is None or ref == condition:
            continue
        for metric in METRICS:
            a, b = mats[metric], other[metric]
            diff = stats.paired_difference(a, b)
            tests = [stats.mcnemar_exact(a[s], b[s]) for s in range(min(len(a), len(b)))]
            rows.append(
                {
                    "student": unit[0],
                    "teacher": unit[1],
                    "dataset": unit[2],
                    "metric": metric,
                    "condition": condition,
                    "reference": ref,
                    "difference": diff.estimate,
                    "low": diff.low,
                    "high": diff.high,
                    "only_condition": [t[0] for t in tests],
                    "only_reference": [t[1] for t in tests],
                    "p": [t[2] for t in tests],
                }
            )
    columns = [
        "student",
        "teacher",
        "dataset",
        "metric",
        "condition",
        "reference",
        "difference",
        "low",
        "high",
        "only_condition",
        "only_reference",
        "p",
        "p_holm",
    ]
    table = pd.DataFrame(rows, columns=columns[:-1])
    if table.empty:  # one condition: nothing to compare, but a table with its header
        return pd.DataFrame(columns=columns)
    table["p_holm"] = None
    for _, g in table.groupby(UNIT + ["metric"], sort=False):
        flat = [p for ps in g["p"] for p in ps]
        adjusted = iter(stats.holm(flat))
        for i, ps in zip(g.index, g["p"]):
            table.at[i, "p_holm"] = [next(adjusted) for _ in ps]
    table = sort_by_condition(table, UNIT + ["metric", "reference", "condition"], condition_order)
    return table


def _interval(mean: float, low: float, high: float) -> str:
    return f"{100 * mean:.1f} [{100 * low:.1f}, {100 * high:.1f}]"


def _p(values) -> str:
    return ", ".join("<1e-4" if p < 1e-4 else f"{p:.3g}" for p in values)


def accuracy_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The accuracy table as printed (percent, intervals in brackets)."""
    out = pd.DataFrame({k: table[k] for k in KEYS + ["seeds"]})
    for name, label in METRIC_NAMES.items():
        out[f"{label} acc. (%) [95% CI]"] = [
            _interval(r[name], r[f"{name}_low"], r[f"{name}_high"])
            for r in table.to_dict("records")
        ]
        out[f"{label} per seed"] = table[f"{name}_per_seed"]
    if "chance" in table:
        out["chance (%)"] = (100 * table["chance"]).map(lambda v: f"{v:.1f}")
    return out


def comparison_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The comparison table as printed (points, intervals, per-seed tests)."""
    recs = table.to_dict("records")
    return pd.DataFrame(
        {
            "student": table["student"],
            "teacher": table["teacher"],
            "dataset": table["dataset"],
            "metric": table["metric"].map(METRIC_NAMES),
            "condition": table["condition"],
            "vs": table["reference"],
            "difference (points) [95% CI]": [
                _interval(r["difference"], r["low"], r["high"]) for r in recs
            ],
            "only this / only vs, per seed": [
                ", ".join(f"{a}/{b}" for a, b in zip(r["only_condition"], r["only_reference"]))
                for r in recs
            ],
            "McNemar p per seed": [_p(r["p"]) for r in recs],
            "Holm p per seed": [_p(r["p_holm"]) for r in recs],
        }
    )


ACCURACY_NOTE = (
    "Mean over seeds and test examples; 95% Welch/t composite intervals (the "
    "seed-to-seed variance plus the test-set variance, Satterthwaite degrees of "
    "freedom); per-seed accuracies beside them. Recomputed from each run's "
    "predictions.parquet."
)
COMPARISON_NOTE = (
    "Difference in accuracy (condition minus reference, percentage points) on the "
    "same test examples, with a paired 95% Welch/t composite interval over seeds "
    "and examples. McNemar's exact test compares seed i of both conditions; p-values "
    "are Holm-adjusted over every test of one (student, teacher, dataset, metric)."
)


def to_markdown(table: pd.DataFrame) -> str:
    """The accuracy table as a pipe table with its note."""
    return markdown(accuracy_rows(table), ACCURACY_NOTE)


def plot(table: pd.DataFrame, runs: pd.DataFrame, out: str) -> None:
    """Generation accuracy per condition, one panel per (student, teacher, dataset);
    bars are means with 95% Welch composite intervals, dots are single seeds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = list(table.groupby(KEYS[:3], sort=False))
    seeds_of = dict(
        list(runs.groupby(KEYS, sort=False))
    )  # (student, teacher, dataset, condition) -> runs
    fig, axes = plt.subplots(
        1,
        len(groups),
        figsize=(1.2 + 1.1 * table["condition"].nunique() * len(groups), 3.6),
        squeeze=False,
    )
    for ax, (key, g) in zip(axes[0], groups):
        x = range(len(g))
        err = [
            100 * (g["gen_accuracy"] - g["gen_accuracy_low"]),
            100 * (g["gen_accuracy_high"] - g["gen_accuracy"]),
        ]
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


def aggregate(
    prediction_paths: Sequence[str], out: dict, condition_order: Sequence[str] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Write every accuracy output; ``out`` maps csv, md, tex, html, runs,
    comparisons_csv, comparisons_md, comparisons_tex, comparisons_html and plot to paths."""
    runs = per_run(prediction_paths)
    matrices = correctness(runs)
    table = summarise(runs, condition_order, matrices)
    comparisons = compare(matrices, condition_order, pairs=claim_pairs())
    for path in out.values():
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    runs.to_csv(out["runs"], index=False)
    table.to_csv(out["csv"], index=False)
    Path(out["md"]).write_text(to_markdown(table))
    Path(out["tex"]).write_text(latex(accuracy_rows(table), ACCURACY_NOTE))
    write_html([("", accuracy_rows(table))], ACCURACY_NOTE, out["html"], "Accuracy")
    comparisons.to_csv(out["comparisons_csv"], index=False)
    rows = comparison_rows(comparisons) if not comparisons.empty else pd.DataFrame()
    Path(out["comparisons_md"]).write_text(markdown(rows, COMPARISON_NOTE))
    Path(out["comparisons_tex"]).write_text(latex(rows, COMPARISON_NOTE))
    write_html([("", rows)], COMPARISON_NOTE, out["comparisons_html"], "Paired comparisons")
    plot(table, runs, out["plot"])
    log.info(
        "%d runs of %d conditions; %d paired comparisons", len(runs), len(table), len(comparisons)
    )
    return table, comparisons
