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


def sort_by_condition(table: pd.DataFrame, keys: Sequence[str],
                      condition_order: Sequence[str] | None) -> pd.DataFrame:
    """``table`` sorted by ``keys``, conditions in config order (others as they come)."""
    if condition_order:
        rank = {c: i for i, c in enumerate(condition_order)}
        table = table.sort_values(list(keys), kind="stable",
                                  key=lambda s: s.map(rank) if s.name == "condition" else s)
    return table.reset_index(drop=True)
