"""Simulated studies whose true accuracy difference is known: how often an interval
method covers the truth, and how often "A > B" is supported when it is not true.

A study draws a fresh test set of ``n_examples`` questions and trains ``n_seeds``
runs of two conditions. Run ``s`` of condition ``c`` answers example ``e``
correctly with probability sigmoid(theta_e + gamma_ce + mu_c + u_cs):

* theta_e: how hard the question is (shared by both conditions: the pairing);
* gamma_ce: how hard it is for this condition in particular (discordant pairs);
* u_cs: the training seed's luck, scaled so that one run's accuracy varies
  across seeds with the standard deviation asked for (in accuracy units);
* mu_c: the condition's effect.

The truth is the expected accuracy difference over questions and seeds, computed
by Gauss-Hermite quadrature (theta + gamma + u is normal).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

THETA_SD, GAMMA_SD = 1.5, 0.5


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _expected(mu: float, sd: float) -> float:
    """E[sigmoid(mu + sd * Z)], Z standard normal."""
    z, w = np.polynomial.hermite_e.hermegauss(80)
    return float((w * _sigmoid(mu + sd * z)).sum() / w.sum())


@dataclass(frozen=True)
class Design:
    """A simulated study: seeds, test questions, the seed-to-seed SD and two conditions'
    mean logits."""

    n_seeds: int
    n_examples: int = 1221
    seed_sd: float = 0.034  # SD of one run's accuracy across seeds (accuracy units)
    mu_a: float = 0.0
    mu_b: float = 0.0

    def seed_logit_sd(self) -> float:
        """The logit-scale seed SD whose shift gives ``seed_sd`` of accuracy."""
        z, w = np.polynomial.hermite_e.hermegauss(80)
        sd = math.hypot(THETA_SD, GAMMA_SD)
        slope = float((w * _sigmoid(sd * z) * (1 - _sigmoid(sd * z))).sum() / w.sum())
        return self.seed_sd / slope

    def truth(self) -> float:
        """The true difference in expected accuracy between the two conditions."""
        sd = math.sqrt(THETA_SD**2 + GAMMA_SD**2 + self.seed_logit_sd() ** 2)
        return _expected(self.mu_a, sd) - _expected(self.mu_b, sd)

    def draw(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Correctness matrices (n_seeds, n_examples) of conditions A and B."""
        theta = rng.normal(0, THETA_SD, self.n_examples)
        u_sd = self.seed_logit_sd()
        out = []
        for mu in (self.mu_a, self.mu_b):
            gamma = rng.normal(0, GAMMA_SD, self.n_examples)
            u = rng.normal(0, u_sd, (self.n_seeds, 1))
            out.append(
                rng.random((self.n_seeds, self.n_examples)) < _sigmoid(theta + gamma + mu + u)
            )
        return out[0], out[1]


@dataclass(frozen=True)
class Coverage:
    """How often an interval method's 95% intervals hold the truth over simulated studies."""

    coverage: float  # share of studies whose 95% interval holds the truth
    false_supported: float  # share whose interval lies above 0 although the truth is <= 0
    studies: int


def coverage(design: Design, interval: Callable, studies: int = 2000, seed: int = 0) -> Coverage:
    """Run ``studies`` simulated studies through ``interval(a, b) -> Interval``."""
    rng = np.random.default_rng(seed)
    truth = design.truth()
    covered = supported = 0
    for _ in range(studies):
        a, b = design.draw(rng)
        iv = interval(a, b)
        covered += iv.low <= truth <= iv.high
        supported += iv.low > 0
    return Coverage(covered / studies, supported / studies if truth <= 0 else math.nan, studies)
