"""Statistics on cases whose answers are known."""

import numpy as np
import pytest

from cotdistill.stats import accuracy_interval, holm, mcnemar_exact, paired_difference

RNG = np.random.default_rng(0)


def test_identical_predictions_differ_by_zero_with_p_one():
    a = RNG.random((2, 200)) < 0.7
    diff = paired_difference(a, a.copy())
    assert diff.estimate == 0 and diff.contains(0)
    for s in range(2):
        assert mcnemar_exact(a[s], a[s]) == (0, 0, 1.0)


def test_thirty_more_right_of_two_hundred_is_detected():
    b = np.zeros(200, dtype=bool)
    b[:100] = True                      # 50% right
    a = b.copy()
    a[100:130] = True                   # right on 30 more of the same examples, wrong on none
    only_a, only_b, p = mcnemar_exact(a, b)
    assert (only_a, only_b) == (30, 0) and p == pytest.approx(2 * 0.5 ** 30)
    diff = paired_difference(a[None], b[None])
    assert diff.estimate == pytest.approx(0.15) and diff.low > 0.08 and diff.high < 0.22


def test_a_balanced_swap_is_not_significant():
    b = np.zeros(200, dtype=bool)
    b[:100] = True
    a = b.copy()
    a[:15] = False                      # 15 lost, 15 gained: same accuracy
    a[100:115] = True
    assert mcnemar_exact(a, b)[2] == 1.0
    assert paired_difference(a[None], b[None]).contains(0)


def test_accuracy_interval_covers_seed_spread_and_test_sampling():
    one_seed = np.r_[np.ones(100), np.zeros(100)][None]
    iv = accuracy_interval(one_seed)
    # binomial standard error at p = 0.5, n = 200 is 0.035: about +-0.07 at 95%
    assert iv.estimate == 0.5 and 0.41 < iv.low < 0.45 and 0.55 < iv.high < 0.59
    # two seeds that disagree (one at chance, one perfect) widen it far beyond that
    spread = accuracy_interval(np.vstack([one_seed[0], np.ones(200)]))
    assert spread.estimate == 0.75 and spread.low <= 0.55 and spread.high >= 0.95
    with pytest.raises(ValueError, match="seeds, examples"):
        accuracy_interval(np.ones(5))


def test_holm_adjusts_step_down():
    # sorted p = .01, .02, .04 with m = 3: .03, .04, .04 (monotone, capped at 1)
    assert holm([0.04, 0.01, 0.02]) == pytest.approx([0.04, 0.03, 0.04])
    assert holm([]) == []
