"""Intervals cover what they say: simulated studies with a known true difference.

The audit's setting: 1,221 test questions, 3 or 4 seeds, a seed-to-seed SD of one
run's accuracy of 1.7 or 3.4 points. The percentile bootstrap the project used before
covered 88.7-89% at 3.4 points; the Welch/t composite interval must cover at least
94%, and support a false "A > B" (truth 0) at most 3% of the time (nominal 2.5%).
"""

import pytest

from cotdistill import stats
from cotdistill.simulation import Design, coverage

NULL_STUDIES, EFFECT_STUDIES = 4000, 1500  # standard error of a 2.5% rate: 0.25 points


@pytest.mark.parametrize("n_seeds", [3, 4])
@pytest.mark.parametrize("seed_sd", [0.017, 0.034])
def test_the_paired_interval_covers_the_truth_with_few_seeds(n_seeds, seed_sd):
    null = coverage(Design(n_seeds, seed_sd=seed_sd), stats.paired_difference, NULL_STUDIES, seed=1)
    assert null.coverage >= 0.94 and null.false_supported <= 0.03, null
    effect = Design(n_seeds, seed_sd=seed_sd, mu_a=0.3)
    assert 0.04 < effect.truth() < 0.06  # about +5 points
    found = coverage(effect, stats.paired_difference, EFFECT_STUDIES, seed=2)
    assert found.coverage >= 0.94, found


def test_the_simulation_has_the_seed_spread_it_was_asked_for():
    import numpy as np

    design = Design(4, seed_sd=0.034)
    rng = np.random.default_rng(0)
    spreads = [design.draw(rng)[0].mean(axis=1).std(ddof=1) for _ in range(300)]
    # the seed SD plus the test-set binomial noise of one run (about 1.3 points at N = 1221)
    assert 0.031 < float(np.mean(spreads)) < 0.040
