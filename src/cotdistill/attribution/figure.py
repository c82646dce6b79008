"""A picture of attribution: rationales with each word shaded by its score.

Words are drawn in a monospace font so that positions follow from character
counts. Red raised the gold label's log-probability, blue lowered it; the
shade is the score over the example's largest absolute word score. Where the
true key words are known they are underlined.
"""

from __future__ import annotations

import random
import textwrap

import pandas as pd

from ..plotting import save_figure
from .scores import scores_by_id, units_from_scores

WIDTH_CHARS = 110


def _lines(words: list[str], width: int) -> list[list[int]]:
    """Greedy wrapping of word indices into lines of at most ``width`` characters."""
    lines, cur, used = [], [], 0
    for i, w in enumerate(words):
        if cur and used + 1 + len(w) > width:
            lines.append(cur)
            cur, used = [], 0
        used += len(w) + (1 if cur else 0)
        cur.append(i)
    return lines + ([cur] if cur else [])


def shaded_rationales(
    scores: pd.DataFrame,
    rationales: pd.DataFrame,
    out: str,
    n_examples: int = 8,
    seed: int = 0,
    title: str = "",
) -> None:
    """A PNG of ``n_examples`` seeded rationales, each word shaded by its score (the
    known key words marked)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_id = scores_by_id(scores)
    ids = [i for i in rationales["id"] if i in by_id]
    picked = sorted(random.Random(seed).sample(ids, min(n_examples, len(ids))), key=ids.index)
    rat = rationales.set_index("id")
    blocks = []  # (header, words, scores, key word set)
    for rid in picked:
        text = rat.loc[rid, "rationale"]
        units = units_from_scores(text, by_id[rid], "word")
        keys = set(int(k) for k in rat.loc[rid, "key_word_idx"]) if "key_word_idx" in rat else set()
        blocks.append((rid, units.pieces, units.scores, keys))
    n_lines = sum(1 + len(_lines(w, WIDTH_CHARS)) for _, w, _, _ in blocks) + 1
    fig_w = 13.0
    line_h = 0.26
    fig, ax = plt.subplots(figsize=(fig_w, line_h * n_lines + 0.6))
    ax.set_xlim(0, WIDTH_CHARS)
    ax.set_ylim(n_lines, 0)
    ax.axis("off")
    font = fig_w * 72 / WIDTH_CHARS / 0.6  # points per character of a monospace font
    cmap = matplotlib.colormaps["RdBu_r"]
    y = 0.5
    for rid, words, values, keys in blocks:
        peak = max((abs(v) for v in values), default=0.0) or 1.0
        ax.text(
            0,
            y,
            textwrap.shorten(f"{rid}  (max |score| {peak:.3g})", WIDTH_CHARS),
            fontsize=font * 0.8,
            family="monospace",
            color="grey",
            va="center",
        )
        y += 1
        for line in _lines(words, WIDTH_CHARS):
            x = 0
            for i in line:
                shade = values[i] / peak
                ax.text(
                    x,
                    y,
                    words[i],
                    fontsize=font,
                    family="monospace",
                    va="center",
                    color="white" if abs(shade) > 0.6 else "black",
                    bbox={"facecolor": cmap(0.5 + 0.5 * shade), "edgecolor": "none", "pad": 1.0},
                )
                if i in keys:  # above the word boxes, which would hide it
                    ax.plot([x, x + len(words[i])], [y + 0.5] * 2, color="black", lw=1.4, zorder=5)
                x += len(words[i]) + 1
            y += 1
    ax.set_title(
        title
        + (
            "   (red: raises the gold label, blue: lowers it; underlined: true key words)"
            if any(b[3] for b in blocks)
            else "   (red: raises the gold label, blue: lowers it)"
        ),
        fontsize=9,
        loc="left",
    )
    save_figure(fig, out, dpi=110)
