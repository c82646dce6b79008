"""What every figure and table of results shares: saving, and condition order."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pandas as pd


def save_figure(fig, out: str, dpi: int = 120) -> None:
    """Lay out, write (creating the folder) and close a matplotlib figure."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi)
    plt.close(fig)


def sort_by_condition(
    table: pd.DataFrame, keys: Sequence[str], condition_order: Sequence[str] | None
) -> pd.DataFrame:
    """``table`` sorted by ``keys``, conditions in config order (others as they come)."""
    if condition_order:
        rank = {c: i for i, c in enumerate(condition_order)}
        table = table.sort_values(
            list(keys), kind="stable", key=lambda s: s.map(rank) if s.name == "condition" else s
        )
    return table.reset_index(drop=True)


def write_html(
    frames: Sequence[tuple[str, pd.DataFrame]], note: str, out: str, title: str, preamble: str = ""
) -> None:
    """A self-contained HTML page of titled tables, a note and an optional preformatted
    preamble (for the Snakemake report)."""
    import html

    style = (
        "body{font-family:sans-serif;font-size:13px;margin:1em}"
        "table{border-collapse:collapse;margin-bottom:1.5em}"
        "th,td{border:1px solid #ccc;padding:3px 6px;text-align:left}th{background:#eee}"
    )
    body = [
        f"<h2>{html.escape(heading)}</h2>" * bool(heading)
        + frame.to_html(index=False, border=0, escape=True)
        for heading, frame in frames
    ]
    page = (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
        f"</title><style>{style}</style></head><body><h1>{html.escape(title)}</h1>"
        + (f"<pre>{html.escape(preamble)}</pre>" if preamble else "")
        + "".join(body)
        + "".join(f"<p>{html.escape(line)}</p>" for line in note.splitlines())
        + "</body></html>\n"
    )
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(page)
