"""Accuracy over a sweep's budget: the table, the smallest budget that keeps the
rationale's benefit, and a plot per (student, teacher, dataset).

The x axis is the share of the rationale's units a point keeps (the mean over
its training rows, from the condition table's provenance), so ``k`` and
``fraction`` sit on one axis. "Keeps the benefit" is the verdicts' rule: the
share of cot_after's gain over label_only that a point keeps, tested against
``verdicts.retained``. The points of one sweep are tested in a fixed sequence,
from the largest budget down, each at the verdicts' one-sided 2.5%, stopping at
the first that is not supported: the smallest budget reached keeps the benefit
at a familywise error of 2.5% per sweep, with no correction, because the order
is fixed before the results are read.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from . import stats
from . import verdicts as V
from .sweeps import Point
from .tables import read_provenance

REFERENCES = ("label_only", "cot_after", "answer_text_after")
LABELS = {
    "keytokens_after": "key tokens",
    "keytokens_before": "key tokens (before)",
    "randomtokens_after": "random tokens",
    "masked_after": "masked (key kept)",
}
COLUMNS = [
    "student",
    "teacher",
    "dataset",
    "sweep",
    "param",
    "value",
    "condition",
    "budget",
    "accuracy",
    "low",
    "high",
    "share",
    "share_low",
    "share_high",
    "verdict",
    "gate",
]


def label(point: Point) -> str:
    """A sweep's name as a plot legend shows it."""
    return LABELS.get(point.sweep, point.sweep)


def mean_over_draws(condition_tables: Sequence[str], pick) -> dict[tuple, float]:
    """(teacher, dataset, condition) -> the mean of ``pick(params)`` over a condition's
    per-seed training tables (its draws), from each table's provenance; tables where
    ``pick`` gives None do not count."""
    found: dict[tuple, list] = {}
    for path in condition_tables:
        p = Path(path)
        value = pick(read_provenance(path).get("params") or {})
        if value is not None:
            key = (p.parent.parent.parent.name, p.parent.parent.name, p.parent.name)
            found.setdefault(key, []).append(value)
    return {k: sum(v) / len(v) for k, v in found.items()}


def kept_shares(condition_tables: Sequence[str]) -> dict[tuple, float]:
    """(teacher, dataset, condition) -> the mean share of rationale units its budget keeps."""
    return mean_over_draws(condition_tables, lambda p: (p.get("budget") or {}).get("kept_share"))


def sweep_table(
    matrices: V.Matrices,
    points: Sequence[Point],
    kept: Mapping[tuple, float],
    settings: V.Settings = V.Settings(),
) -> pd.DataFrame:
    """One row per (unit, sweep point): its budget, accuracy with its interval, the share
    of cot_after's gain it keeps with its interval, and its fixed-sequence verdict."""
    units = list(dict.fromkeys(k[:3] for k in matrices))
    rows = []
    for unit in units:
        mats = {k[3]: v for k, v in matrices.items() if k[:3] == unit}
        for p in points:
            if p.condition not in mats:
                continue
            acc = stats.accuracy_interval(mats[p.condition][settings.metric])
            tested = V.measure_part(V.Part(p.condition, "keeps", "cot_after"), mats, settings)
            rows.append(
                {
                    "student": unit[0],
                    "teacher": unit[1],
                    "dataset": unit[2],
                    "sweep": p.sweep,
                    "param": p.param,
                    "value": p.value,
                    "condition": p.condition,
                    "budget": kept.get((unit[1], unit[2], p.condition), math.nan),
                    "accuracy": acc.estimate,
                    "low": acc.low,
                    "high": acc.high,
                    "share": tested.estimate,
                    "share_low": tested.low,
                    "share_high": tested.high,
                    "p_keeps": tested.p_support,
                    "p_loses": tested.p_contradict,
                    "gate": tested.gate,
                }
            )
    table = pd.DataFrame(rows, columns=COLUMNS[:-2] + ["p_keeps", "p_loses", "gate"])
    table["verdict"] = _fixed_sequence(table)
    return table[COLUMNS + ["p_keeps", "p_loses"]]


def _fixed_sequence(table: pd.DataFrame) -> list[str]:
    """Each point's verdict, testing a sweep's points from the largest budget down and
    stopping at the first that does not keep the benefit (later ones: not tested)."""
    verdict = pd.Series(V.NOT_JUDGED, index=table.index, dtype=object)
    for _, g in table.groupby(["student", "teacher", "dataset", "sweep", "param"], sort=False):
        going = True
        for i in g.sort_values(["budget", "value"], ascending=False).index:
            if table.at[i, "gate"]:
                going = False
                continue
            if not going:
                verdict[i] = "not tested"
                continue
            verdict[i] = V.decide(table.at[i, "p_keeps"], table.at[i, "p_loses"])
            going = verdict[i] == V.SUPPORTED
    return verdict.tolist()


def smallest_budgets(table: pd.DataFrame, points: Sequence[Point]) -> pd.DataFrame:
    """Per (unit, sweep, param): the smallest value that keeps the benefit, or why not."""
    labels = {p.sweep: label(p) for p in points}
    rows = []
    for (s, t, d, sweep, param), g in table.groupby(
        ["student", "teacher", "dataset", "sweep", "param"], sort=False
    ):
        kept = g[g["verdict"] == V.SUPPORTED].sort_values("budget")
        gates = sorted(set(g["gate"]) - {""})
        largest = g.sort_values("budget").iloc[-1]
        if len(kept):
            first = kept.iloc[0]
            result = f"{param} = {first['value']} ({100 * first['budget']:.0f}% of the words)"
        elif gates and (g["gate"] != "").all():
            result = f"not judged: {gates[0]}"
        else:
            result = f"not reached within the sweep (up to {param} = {largest['value']})"
        rows.append(
            {
                "student": s,
                "teacher": t,
                "dataset": d,
                "sweep": sweep,
                "what": labels.get(sweep, sweep),
                "param": param,
                "keeps the benefit from": result,
            }
        )
    return pd.DataFrame(rows)


def sentence(smallest: pd.DataFrame) -> list[str]:
    """One line per unit: "key tokens keep the benefit from k = 3; random tokens: not
    reached within the sweep (up to k = 10)"."""
    out = []
    for unit, g in smallest.groupby(["student", "teacher", "dataset"], sort=False):
        parts = [
            f"{r['what']} ({r['param']}): {r['keeps the benefit from']}"
            for r in g.to_dict("records")
        ]
        out.append(f"{' / '.join(unit)}: " + "; ".join(parts))
    return out


def display(table: pd.DataFrame) -> pd.DataFrame:
    """The sweep table as people read it: percentages and intervals as text."""

    def pct(x):
        return "" if pd.isna(x) else f"{100 * x:.1f}"

    def share(r):
        if r["gate"]:
            return "not judged: " + r["gate"]
        low = "-∞" if r["share_low"] == -math.inf else f"{100 * r['share_low']:.0f}"
        high = "+∞" if r["share_high"] == math.inf else f"{100 * r['share_high']:.0f}"
        return f"{100 * r['share']:.0f}% [{low}, {high}]"

    return pd.DataFrame(
        {
            "student": table["student"],
            "teacher": table["teacher"],
            "dataset": table["dataset"],
            "sweep": table["sweep"],
            "point": table["param"] + " = " + table["value"].astype(str),
            "budget (% of words)": table["budget"].map(pct),
            "accuracy (%)": [
                f"{pct(a)} [{pct(lo)}, {pct(hi)}]"
                for a, lo, hi in zip(table["accuracy"], table["low"], table["high"])
            ],
            "keeps of cot_after's gain": [share(r) for r in table.to_dict("records")],
            "keeps the benefit": table["verdict"],
        }
    )


def reference_lines(matrices: V.Matrices, unit: tuple, metric: str) -> dict[str, stats.Interval]:
    """The reference conditions' accuracy intervals of one unit, for the plot's lines."""
    return {
        c: stats.accuracy_interval(matrices[(*unit, c)][metric])
        for c in REFERENCES
        if (*unit, c) in matrices
    }


def plot(
    table: pd.DataFrame,
    references: Mapping[str, stats.Interval],
    unit: tuple,
    points: Sequence[Point],
    out: str,
    settings: V.Settings = V.Settings(),
) -> None:
    """Accuracy against the share of rationale words kept, one line per sweep, with the
    reference conditions as horizontal lines and bands (their 95% intervals)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plotting import save_figure

    labels = {p.sweep: label(p) for p in points}
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    colours = {"label_only": "0.45", "cot_after": "tab:green", "answer_text_after": "tab:purple"}
    for name, iv in references.items():
        ax.axhline(100 * iv.estimate, color=colours[name], lw=1.2, ls="--", label=name)
        ax.axhspan(100 * iv.low, 100 * iv.high, color=colours[name], alpha=0.07, lw=0)
    mine = table[
        (table["student"] == unit[0])
        & (table["teacher"] == unit[1])
        & (table["dataset"] == unit[2])
    ]
    for n, ((sweep, param), g) in enumerate(mine.groupby(["sweep", "param"], sort=False)):
        g = g.sort_values("budget")
        x, y = 100 * g["budget"].to_numpy(), 100 * g["accuracy"].to_numpy()
        err = np.vstack([y - 100 * g["low"].to_numpy(), 100 * g["high"].to_numpy() - y])
        line = ax.errorbar(
            x,
            y,
            yerr=err,
            marker="o",
            capsize=3,
            lw=1.5,
            label=f"{labels.get(sweep, sweep)} ({param})",
        )
        for xi, yi, v, verdict in zip(x, y, g["value"], g["verdict"]):
            ax.annotate(
                f"{param}={v}" + ("✓" if verdict == V.SUPPORTED else ""),
                (xi, yi),
                textcoords="offset points",
                xytext=(5, 4 if n % 2 == 0 else -11),
                ha="left",
                fontsize=7,
                color=line[0].get_color(),
            )
    ax.set_xlabel("share of the rationale's words kept (%)")
    ax.set_ylabel(f"{V.METRIC_WORDS[settings.metric].split(' (')[0]} (%)")
    widest = 100 * float(mine["budget"].max()) if len(mine) else 100.0
    ax.set_xlim(0, min(100.0, 1.15 * widest + 3))  # the points, not the empty rest of the axis
    ax.set_title(" / ".join(unit), fontsize=10)
    ax.legend(fontsize=7, loc="best")
    ax.grid(alpha=0.3)
    save_figure(fig, out)


NOTE = (
    "Budget: the mean share of a rationale's words the point keeps. Accuracy: mean over "
    "seeds and test questions with its 95% Welch/t composite interval. Keeps: the share of "
    "cot_after's gain over label_only the point keeps, with its Fieller interval; a sweep's "
    "points are tested from the largest budget down (one-sided 2.5% each) and testing "
    "stops at the first that does not keep at least the retained share (later points: not "
    "tested). ✓ in the plot marks a point that keeps it."
)
