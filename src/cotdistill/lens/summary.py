"""Lens results across runs: per-layer curves, where the answer emerges, and a plot.

Every number is recomputed from the runs' ``lens.parquet`` rows.

Emergence: a run's answer has emerged at the first layer from which the lens's
top-choice accuracy stays at or above ``fraction`` of the last layer's gain over
chance, ``acc_l - chance >= fraction * (acc_L - chance)`` for that layer and every
later one (a transient spike in an early layer does not count). A run whose last
layer is not above chance by more than two binomial standard errors has no answer
to emerge and gets none.

Per question: the layer from which the gold choice stays the lens's top choice
up to the last layer (``settle_layers``); two conditions are compared on it over
the questions every run of both answers correctly (``paired_settle``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import pandas as pd

from .. import runs
from ..plotting import save_figure, sort_by_condition
from ..runs import read_identity
from ..tables import read_table

UNIT = list(runs.UNIT)
EMERGENCE_NOTE = (
    "Emergence layer: the first layer (0 = embeddings, L = last block) from which the "
    "lens's top-choice accuracy stays at or above {fraction:.0%} of the last layer's "
    "gain over chance. '-' / never: the last layer is not above chance by more than two "
    "binomial standard errors. Recomputed from each run's lens.parquet."
)
RUN = list(runs.KEYS)


def curves(lens_paths: Sequence[str]) -> pd.DataFrame:
    """One row per (run, lens, layer): mean gold probability, top-choice accuracy,
    mean KL to the final layer, median vocabulary rank, chance, n."""
    out = []
    for path in lens_paths:
        rows = read_table(path)
        agg = (
            rows.groupby(["lens", "layer"], sort=True)
            .agg(
                gold_prob=("gold_prob", "mean"),
                top_accuracy=("top_correct", "mean"),
                kl_to_final=("kl_to_final", "mean"),
                median_rank_vocab=("gold_rank_vocab", "median"),
                chance=("n_choices", lambda n: float((1.0 / n).mean())),
                n=("id", "size"),
            )
            .reset_index()
        )
        for key, value in read_identity(path).items():
            agg[key] = value
        agg["n_layers"] = int(rows["layer"].max())
        out.append(agg)
    table = pd.concat(out, ignore_index=True)
    return table[
        RUN
        + [
            "lens",
            "layer",
            "n_layers",
            "n",
            "chance",
            "gold_prob",
            "top_accuracy",
            "kl_to_final",
            "median_rank_vocab",
        ]
    ]


def emergence_layer(
    accuracy: Sequence[float], chance: float, n: int, fraction: float
) -> int | None:
    """The first layer from which accuracy stays at or above ``fraction`` of the final
    gain over chance; None when the final layer is within two standard errors of chance."""
    gain = accuracy[-1] - chance
    if gain <= 2 * math.sqrt(chance * (1 - chance) / n):
        return None
    layer = len(accuracy) - 1  # the last layer covers any fraction <= 1 of its own gain
    while layer > 0 and accuracy[layer - 1] - chance >= fraction * gain:
        layer -= 1
    return layer


def settle_layers(path: str, lens: str = "logit") -> pd.Series:
    """Per question (index: id) of one run's lens.parquet: the layer from which the gold
    choice stays the top choice through the last layer; NaN when the last layer is wrong."""
    rows = read_table(path)
    rows = rows[rows["lens"] == lens].sort_values(["id", "layer"])
    out = {}
    for qid, g in rows.groupby("id", sort=False):
        right = g["top_correct"].to_numpy(dtype=bool)
        if not right[-1]:
            out[qid] = math.nan
            continue
        wrong = (~right).nonzero()[0]
        out[qid] = float(g["layer"].iloc[wrong[-1] + 1] if len(wrong) else g["layer"].iloc[0])
    return pd.Series(out, dtype=float)


def paired_settle(paths_a: Sequence[str], paths_b: Sequence[str], lens: str = "logit"):
    """(Interval of mean settle layer of A minus B, n questions) over the questions that
    every run of both conditions answers correctly at the last layer; (None, 0) if none."""
    from .. import stats

    a = pd.concat([settle_layers(p, lens) for p in paths_a], axis=1)  # (questions, seeds)
    b = pd.concat([settle_layers(p, lens) for p in paths_b], axis=1)
    both = a.dropna().index.intersection(b.dropna().index)
    if len(both) < 2:
        return None, len(both)
    iv = stats.contrast([a.loc[both].to_numpy().T, b.loc[both].to_numpy().T], [1.0, -1.0])
    return iv, len(both)


def emergence(
    curve_table: pd.DataFrame, fraction: float, condition_order: Sequence[str] | None = None
) -> pd.DataFrame:
    """One row per (student, teacher, dataset, condition, lens): the emergence
    layer of every seed, their mean and range, and the final top-choice accuracy."""
    per_run = []
    for key, g in curve_table.groupby(RUN + ["lens"], sort=False):
        g = g.sort_values("layer")
        layer = emergence_layer(
            list(g["top_accuracy"]), float(g["chance"].iloc[0]), int(g["n"].iloc[0]), fraction
        )
        per_run.append(
            {
                **dict(zip(RUN + ["lens"], key)),
                "layer": layer,
                "n_layers": int(g["n_layers"].iloc[0]),
                "final_accuracy": float(g["top_accuracy"].iloc[-1]),
            }
        )
    runs = pd.DataFrame(per_run)
    out = []
    for key, g in runs.groupby(UNIT + ["condition", "lens"], sort=False):
        layers = [x for x in g["layer"] if x is not None and not pd.isna(x)]
        out.append(
            {
                **dict(zip(UNIT + ["condition", "lens"], key)),
                "n_layers": int(g["n_layers"].iloc[0]),
                "seeds": len(g),
                "emerged_seeds": len(layers),
                "layer_per_seed": ", ".join(
                    "-" if x is None or pd.isna(x) else str(int(x))
                    for x in g.sort_values("seed")["layer"]
                ),
                "layer_mean": sum(layers) / len(layers) if layers else math.nan,
                "layer_min": min(layers) if layers else math.nan,
                "layer_max": max(layers) if layers else math.nan,
                "final_accuracy": float(g["final_accuracy"].mean()),
                "fraction": fraction,
            }
        )
    return sort_by_condition(pd.DataFrame(out), UNIT + ["lens", "condition"], condition_order)


def to_markdown(table: pd.DataFrame, fraction: float) -> str:
    """The emergence table as a pipe table with its note."""
    head = (
        "| student | teacher | dataset | lens | condition | layers | emergence layer "
        "(mean) | per seed | final top-choice acc. (%) |"
    )
    lines = [head, "|" + "---|" * 9]
    for r in table.to_dict("records"):
        mean = "never" if math.isnan(r["layer_mean"]) else f"{r['layer_mean']:.1f}"
        lines.append(
            f"| {r['student']} | {r['teacher']} | {r['dataset']} | {r['lens']} | "
            f"{r['condition']} | {r['n_layers']} | {mean} | {r['layer_per_seed']} | "
            f"{100 * r['final_accuracy']:.1f} |"
        )
    return "\n".join(lines) + "\n\n" + EMERGENCE_NOTE.format(fraction=fraction) + "\n"


PANELS = [
    ("gold_prob", "mean P(gold letter)"),
    ("top_accuracy", "top choice = gold"),
    ("kl_to_final", "KL to final layer (nats)"),
]


def plot(
    curve_table: pd.DataFrame, out: str, title: str, condition_order: Sequence[str] | None = None
) -> None:
    """One unit's curves: a row per lens, a column per measure, a line per
    condition (mean over seeds) with a band from the lowest to the highest seed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    lenses = [x for x in ("logit", "tuned") if x in set(curve_table["lens"])]
    conditions = list(dict.fromkeys(condition_order or [])) or list(
        curve_table["condition"].unique()
    )
    conditions = [c for c in conditions if c in set(curve_table["condition"])]
    colours = plt.get_cmap("tab10" if len(conditions) <= 10 else "tab20")
    fig, axes = plt.subplots(
        len(lenses),
        len(PANELS),
        figsize=(4.2 * len(PANELS), 3.0 * len(lenses) + 0.6),
        squeeze=False,
    )
    for row, lens in zip(axes, lenses):
        for ax, (col, label) in zip(row, PANELS):
            for i, cond in enumerate(conditions):
                g = curve_table[(curve_table["lens"] == lens) & (curve_table["condition"] == cond)]
                by_layer = g.groupby("layer")[col]
                mean, lo, hi = by_layer.mean(), by_layer.min(), by_layer.max()
                ax.plot(
                    mean.index,
                    mean.values,
                    marker="o",
                    ms=3,
                    color=colours(i % colours.N),
                    label=cond,
                )
                ax.fill_between(
                    mean.index, lo.values, hi.values, color=colours(i % colours.N), alpha=0.15
                )
            if col == "top_accuracy":
                ax.axhline(curve_table["chance"].mean(), ls="--", color="grey", lw=1)
            if col != "kl_to_final":
                ax.set_ylim(-0.02, 1.02)
            ax.set_title(f"{lens} lens: {label}", fontsize=9)
            ax.set_xlabel("layer (0 = embeddings)")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0][0].legend(fontsize=7, loc="upper left")
    fig.suptitle(title, fontsize=10)
    save_figure(fig, out)


def summarise(
    lens_paths: Sequence[str],
    fraction: float,
    out_curves: str,
    out_csv: str,
    out_md: str,
    condition_order: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Write the per-layer curves and the emergence table; returns the latter."""
    table = curves(lens_paths)
    found = emergence(table, fraction, condition_order)
    for path in (out_curves, out_csv, out_md):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out_curves, index=False)
    found.to_csv(out_csv, index=False)
    Path(out_md).write_text(to_markdown(found, fraction))
    return found
