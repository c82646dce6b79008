"""Uncertainty for accuracies and paired comparisons of conditions.

Every function takes correctness matrices of shape (seeds, examples): row ``s``
is one trained run (seed ``s``), column ``e`` one test example, the same
examples in the same order for every run and every condition.

* Intervals come from a two-level bootstrap: each replicate draws seeds with
  replacement and, independently, test examples with replacement (the same
  examples for every seed and, in a comparison, for both conditions), so they
  cover both training noise and the finite test set. Percentile intervals.
* McNemar's exact test (a two-sided binomial test on the discordant pairs,
  scipy) compares two runs on the same examples; Holm's step-down correction
  (statsmodels) adjusts a family of p-values.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

N_BOOT = 10_000


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


def _check(*matrices: np.ndarray) -> list[np.ndarray]:
    out = [np.asarray(m, dtype=float) for m in matrices]
    for m in out:
        if m.ndim != 2 or m.size == 0:
            raise ValueError(f"expected a (seeds, examples) matrix, got shape {m.shape}")
    if len({m.shape[1] for m in out}) != 1:
        raise ValueError(f"paired matrices cover different numbers of examples: "
                         f"{[m.shape for m in out]}")
    return out


def _replicates(matrix: np.ndarray, seeds: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(n_boot,) means of ``matrix`` under drawn seeds (n_boot, S) and example
    weights (n_boot, N) that sum to one per replicate."""
    per_seed = weights @ matrix.T                       # (n_boot, S): each run's weighted accuracy
    return np.take_along_axis(per_seed, seeds, axis=1).mean(axis=1)


@lru_cache(maxsize=4)
def _draws(n_seeds: int, n_examples: int, n_boot: int, seed: int):
    """(seeds (n_boot, S), example weights (n_boot, N), the generator's state after them),
    drawn from a fresh generator. Every table cell of one shape draws exactly these, so
    they are drawn once: the multinomial is most of an aggregate job's time otherwise."""
    rng = np.random.default_rng(seed)
    seeds = rng.integers(0, n_seeds, size=(n_boot, n_seeds))
    weights = rng.multinomial(n_examples, np.full(n_examples, 1.0 / n_examples),
                              size=n_boot) / n_examples  # (n_boot, N)
    seeds.flags.writeable = weights.flags.writeable = False  # shared by every caller
    return seeds, weights, rng.bit_generator.state


def _continue(state: dict) -> np.random.Generator:
    rng = np.random.default_rng()
    rng.bit_generator.state = state
    return rng


def accuracy_interval(correct, n_boot: int = N_BOOT, seed: int = 0,
                      level: float = 0.95) -> Interval:
    """Mean accuracy over seeds and examples with its two-level bootstrap interval."""
    (m,) = _check(correct)
    seeds, weights, _ = _draws(m.shape[0], m.shape[1], n_boot, seed)
    reps = _replicates(m, seeds, weights)
    tail = 100 * (1 - level) / 2
    return Interval(float(m.mean()), *map(float, np.percentile(reps, [tail, 100 - tail])))


def paired_difference(a, b, n_boot: int = N_BOOT, seed: int = 0,
                      level: float = 0.95) -> Interval:
    """Accuracy of ``a`` minus accuracy of ``b`` on the same examples, with a paired
    two-level bootstrap interval: every replicate draws the same examples for
    both conditions, and seeds for each condition (runs of two conditions share
    no training, so their seeds are not paired)."""
    a, b = _check(a, b)
    seeds_a, weights, state = _draws(a.shape[0], a.shape[1], n_boot, seed)
    seeds_b = _continue(state).integers(0, b.shape[0], size=(n_boot, b.shape[0]))
    reps = _replicates(a, seeds_a, weights) - _replicates(b, seeds_b, weights)
    tail = 100 * (1 - level) / 2
    return Interval(float(a.mean() - b.mean()), *map(float, np.percentile(reps, [tail, 100 - tail])))


def mcnemar_exact(a, b) -> tuple[int, int, float]:
    """(a right and b wrong, b right and a wrong, two-sided exact p) for two runs'
    correctness vectors on the same examples; p = 1 with no discordant pair."""
    from scipy.stats import binomtest

    a, b = np.asarray(a, dtype=bool), np.asarray(b, dtype=bool)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"McNemar needs two vectors over the same examples: {a.shape}, {b.shape}")
    only_a, only_b = int((a & ~b).sum()), int((b & ~a).sum())
    if only_a + only_b == 0:
        return 0, 0, 1.0
    return only_a, only_b, float(binomtest(only_a, only_a + only_b, 0.5).pvalue)


def holm(pvalues) -> list[float]:
    """Holm-adjusted p-values of one family of tests (statsmodels)."""
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(list(pvalues), dtype=float)
    if p.size == 0:
        return []
    return [float(x) for x in multipletests(p, method="holm")[1]]
