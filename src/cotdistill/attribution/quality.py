"""How good is a score source? Precision@k against known key words, beside random.

Where the teacher records the true key words (the generated dataset), the
words a source ranks highest are compared with them: precision@k is the share
of the top-k words that are key words. A seeded random pick of k words, and
its expectation ``|K| / n_words``, are the floor any useful source must beat.
Faithfulness of integrated gradients itself is reported as the median of
``|delta| / |F(input) - F(baseline)|`` (captum's completeness gap).
"""

from __future__ import annotations

import random

import pandas as pd

from ..answer_overlap import restates_answer
from .scores import DEFAULT_K, scores_by_id, top_units, units_from_scores

KS = ("1", "2", "|K|")  # |K|: as many words as the example has key words (precision = recall)


def _k(label: str, n_true: int) -> int:
    return n_true if label == "|K|" else int(label)


def precision_at_k(scores: pd.DataFrame, rationales: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """One row per k of :data:`KS`: mean precision of the source (ranked by signed score
    and by absolute score) and of random picks, over examples with known key words."""
    by_id = scores_by_id(scores)
    rows = {k: {"score": [], "abs": [], "random": [], "expected": []} for k in KS}
    for rid, text, keys in zip(
        rationales["id"], rationales["rationale"], rationales["key_word_idx"]
    ):
        if rid not in by_id or len(keys) == 0:
            continue
        units = units_from_scores(text, by_id[rid], "word")
        truth, n = set(int(k) for k in keys), len(units)
        rng = random.Random(f"{seed}-{rid}")
        for label in KS:
            k = min(_k(label, len(truth)), n)
            for rank_by in ("score", "abs"):
                hits = len(truth & set(top_units(units.scores, k, rank_by)))
                rows[label][rank_by].append(hits / k)
            rows[label]["random"].append(len(truth & set(rng.sample(range(n), k))) / k)
            rows[label]["expected"].append(len(truth) / n)
    out = []
    for label, r in rows.items():
        m = len(r["score"])
        out.append(
            {
                "k": label,
                "n_examples": m,
                "precision_ig": sum(r["score"]) / m if m else float("nan"),
                "precision_ig_abs": sum(r["abs"]) / m if m else float("nan"),
                "precision_random": sum(r["random"]) / m if m else float("nan"),
                "precision_random_expected": sum(r["expected"]) / m if m else float("nan"),
            }
        )
    return pd.DataFrame(out)


def answer_share(
    scores: pd.DataFrame,
    rationales: pd.DataFrame,
    data: pd.DataFrame,
    k_label: str = str(DEFAULT_K),
) -> float:
    """Share of examples whose top-k words (by signed score) restate the answer: hold
    the gold letter or a content word of the gold choice (``answer_overlap``).
    ``k_label``: a number, or '|K|' (as many as the example's known key words)."""
    by_id = scores_by_id(scores)
    gold = data.set_index("id")
    keys = (
        dict(zip(rationales["id"], rationales["key_word_idx"]))
        if "key_word_idx" in rationales.columns
        else {}
    )
    hits = []
    for rid, text in zip(rationales["id"], rationales["rationale"]):
        if rid not in by_id or rid not in gold.index:
            continue
        units = units_from_scores(text, by_id[rid], "word")
        if not len(units):
            continue
        k = len(keys.get(rid, ())) if k_label == "|K|" else int(k_label)
        words = [
            text[a:b]
            for a, b in (
                units.spans[i] for i in top_units(units.scores, min(max(k, 1), len(units)))
            )
        ]
        row = gold.loc[rid]
        hits.append(restates_answer(words, row["label"], list(row["choices"])))
    return sum(hits) / len(hits) if hits else float("nan")


def completeness_gap(scores: pd.DataFrame) -> float:
    """Median over examples of |delta| / |F(input) - F(baseline)| (NaN without F values)."""
    per = scores.groupby("id", sort=False)[["f_input", "f_baseline", "delta"]].first()
    gap = (per["f_input"] - per["f_baseline"]).abs()
    rel = (per["delta"].abs() / gap)[gap > 1e-6]
    return float(rel.median()) if len(rel) else float("nan")


def attribution_table(
    units: list[tuple[str, str, str]],
    score_paths: list[str],
    rationale_paths: list[str],
    data_paths: list[str],
) -> pd.DataFrame:
    """The attribution table over (attributor, teacher, dataset) units; ``data_paths``:
    each unit's training data (gold labels and choices, for the answer share)."""
    frames = []
    for (attributor, teacher, dataset), sp, rp, dp in zip(
        units, score_paths, rationale_paths, data_paths
    ):
        scores, rat, data = pd.read_parquet(sp), pd.read_parquet(rp), pd.read_parquet(dp)
        head = {
            "attributor": attributor,
            "teacher": teacher,
            "dataset": dataset,
            "median_rel_delta": completeness_gap(scores),
            "tokens_per_example": len(scores) / max(1, scores["id"].nunique()),
        }
        if "key_word_idx" in rat.columns:
            frame = precision_at_k(scores, rat)
        else:  # no ground truth: the faithfulness figure and the answer share at the default k
            frame = pd.DataFrame([{"k": str(DEFAULT_K), "n_examples": scores["id"].nunique()}])
        frame["restates_answer"] = [answer_share(scores, rat, data, k) for k in frame["k"]]
        frames.append(frame.assign(**head))
    cols = [
        "attributor",
        "teacher",
        "dataset",
        "k",
        "n_examples",
        "precision_ig",
        "precision_ig_abs",
        "precision_random",
        "precision_random_expected",
        "restates_answer",
        "median_rel_delta",
        "tokens_per_example",
    ]
    return pd.concat(frames, ignore_index=True).reindex(columns=cols)


def to_markdown(table: pd.DataFrame) -> str:
    """The attribution-quality table as a pipe table."""

    def pct(x) -> str:
        return "" if pd.isna(x) else f"{100 * x:.1f}"

    lines = [
        "| attributor | teacher | dataset | k | examples | precision@k (%) | "
        "by abs. score (%) | random (%) | random, expected (%) | top-k restate the "
        "answer (%) | median rel. delta |",
        "|" + "---|" * 11,
    ]
    for r in table.to_dict("records"):
        delta = "" if pd.isna(r["median_rel_delta"]) else f"{r['median_rel_delta']:.2g}"
        lines.append(
            f"| {r['attributor']} | {r['teacher']} | {r['dataset']} | {r['k']} | "
            f"{r['n_examples']} | {pct(r['precision_ig'])} | {pct(r['precision_ig_abs'])} "
            f"| {pct(r['precision_random'])} | {pct(r['precision_random_expected'])} | "
            f"{pct(r['restates_answer'])} | {delta} |"
        )
    note = (
        "\nPrecision@k: share of a source's top-k rationale words (word score = sum of its "
        "tokens' scores) that are true key words; |K| = the example's number of key words. "
        "Top-k restate the answer: share of examples whose top-k words hold the gold letter "
        "or a content word of the gold choice's text (key tokens that may just be the "
        "answer again). Median rel. delta: |captum convergence delta| / "
        "|F(input) - F(baseline)|.\n"
    )
    return "\n".join(lines) + "\n" + note
