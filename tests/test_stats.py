"""Statistics on cases whose answers are known."""

import numpy as np
import pytest

from cotdistill.stats import (
    accuracy_interval,
    bootstrap_accuracy_interval,
    bootstrap_paired_difference,
    contrast,
    holm,
    mcnemar_exact,
    paired_difference,
    retained_share,
)

RNG = np.random.default_rng(0)


def test_identical_predictions_differ_by_zero_with_p_one():
    a = RNG.random((2, 200)) < 0.7
    diff = paired_difference(a, a.copy())
    assert diff.estimate == 0 and diff.contains(0)
    for s in range(2):
        assert mcnemar_exact(a[s], a[s]) == (0, 0, 1.0)


def test_thirty_more_right_of_two_hundred_is_detected():
    b = np.zeros(200, dtype=bool)
    b[:100] = True  # 50% right
    a = b.copy()
    a[100:130] = True  # right on 30 more of the same examples, wrong on none
    only_a, only_b, p = mcnemar_exact(a, b)
    assert (only_a, only_b) == (30, 0) and p == pytest.approx(2 * 0.5**30)
    diff = paired_difference(a[None], b[None])
    assert diff.estimate == pytest.approx(0.15) and diff.low > 0.08 and diff.high < 0.22


def test_a_balanced_swap_is_not_significant():
    b = np.zeros(200, dtype=bool)
    b[:100] = True
    a = b.copy()
    a[:15] = False  # 15 lost, 15 gained: same accuracy
    a[100:115] = True
    assert mcnemar_exact(a, b)[2] == 1.0
    assert paired_difference(a[None], b[None]).contains(0)


def test_accuracy_interval_covers_seed_spread_and_test_sampling():
    one_seed = np.r_[np.ones(100), np.zeros(100)][None]
    iv = accuracy_interval(one_seed)
    # binomial standard error at p = 0.5, n = 200 is 0.035: about +-0.07 at 95%
    assert iv.estimate == 0.5 and 0.41 < iv.low < 0.45 and 0.55 < iv.high < 0.59
    assert iv.high - 0.5 == pytest.approx(1.972 * 0.5 / np.sqrt(199) * np.sqrt(200 / 200), rel=0.01)
    # two seeds that disagree (one at chance, one perfect) widen it far beyond that
    spread = accuracy_interval(np.vstack([one_seed[0], np.ones(200)]))
    assert spread.estimate == 0.75 and spread.low <= 0.55 and spread.high >= 0.95
    with pytest.raises(ValueError, match="seeds, examples"):
        accuracy_interval(np.ones(5))


def test_holm_adjusts_step_down():
    # sorted p = .01, .02, .04 with m = 3: .03, .04, .04 (monotone, capped at 1)
    assert holm([0.04, 0.01, 0.02]) == pytest.approx([0.04, 0.03, 0.04])
    assert holm([]) == []


def bootstrap_from_scratch(a, b, n_boot, seed):
    """The two-level paired bootstrap spelled out with a fresh generator per call."""
    rng = np.random.default_rng(seed)
    n = a.shape[1]
    seeds_a = rng.integers(0, a.shape[0], size=(n_boot, a.shape[0]))
    weights = rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot) / n
    seeds_b = rng.integers(0, b.shape[0], size=(n_boot, b.shape[0]))
    rep = [
        np.take_along_axis(weights @ m.T, s, axis=1).mean(axis=1)
        for m, s in ((a, seeds_a), (b, seeds_b))
    ]
    tail = 100 * (1 - 0.95) / 2  # as the library computes a 95% interval's tails
    return (
        np.percentile(rep[0], [tail, 100 - tail]),
        np.percentile(rep[0] - rep[1], [tail, 100 - tail]),
    )


def test_draws_shared_between_table_cells_give_each_cell_its_own_fresh_draw_result():
    """Cells of one shape reuse one set of draws (aggregate's speed); every cell's
    interval must still equal the one a fresh generator gives, in any call order."""
    cells = [(RNG.random((3, 60)) < p, RNG.random((2, 60)) < 0.5) for p in (0.6, 0.8)]
    for a, b in cells + cells[::-1]:
        acc_expect, diff_expect = bootstrap_from_scratch(
            a.astype(float), b.astype(float), 500, seed=7
        )
        diff = bootstrap_paired_difference(a, b, n_boot=500, seed=7)
        acc = bootstrap_accuracy_interval(a, n_boot=500, seed=7)
        assert (diff.low, diff.high) == tuple(diff_expect)
        assert (acc.low, acc.high) == tuple(acc_expect)


def test_the_welch_interval_adds_seed_and_test_set_variance_with_satterthwaite_df():
    """Three seeds whose accuracies differ: the seed variance (df 2) dominates, so the
    interval uses a t quantile near df 2, far wider than a normal one."""
    from scipy.stats import t

    a = np.zeros((3, 400), dtype=bool)
    for s, right in enumerate((200, 240, 280)):  # 50%, 60%, 70%
        a[s, :right] = True
    iv = accuracy_interval(a)
    seed_var = np.var([0.5, 0.6, 0.7], ddof=1) / 3
    test_var = a.mean(axis=0).var(ddof=1) / 400
    se = np.sqrt(seed_var + test_var)
    df = (seed_var + test_var) ** 2 / (seed_var**2 / 2 + test_var**2 / 399)
    assert iv.estimate == pytest.approx(0.6) and iv.se == pytest.approx(se)
    assert iv.df == pytest.approx(df) and 2 < iv.df < 3
    assert iv.high == pytest.approx(0.6 + t.ppf(0.975, df) * se)
    # a contrast with weight -1 is the paired difference; p-values are one-sided
    b = np.zeros((2, 400), dtype=bool)
    b[:, :100] = True
    d = paired_difference(a, b)
    assert d.estimate == pytest.approx(0.35) and d.low > 0 and d.p_above < 0.025
    assert d.p_above + d.p_below == pytest.approx(1.0)
    assert contrast([a, b], [1, -1]).low == d.low


def test_retained_share_interval_inverts_the_contrast_test():
    """The Fieller interval of (x - base) / (ref - base) holds exactly the shares r whose
    contrast x - r * ref - (1 - r) * base is not rejected (at the df of the declared r)."""
    rng = np.random.default_rng(1)
    base, ref, x = (rng.random((3, 800)) < p for p in (0.3, 0.6, 0.55))
    share = retained_share(x, ref, base, retained=0.8)
    assert share.estimate == pytest.approx((x.mean() - base.mean()) / (ref.mean() - base.mean()))
    assert share.low < share.estimate < share.high
    at = contrast([x, ref, base], [1, -0.8, -0.2])
    assert share.p_keeps == pytest.approx(at.p_above)
    assert (share.low > 0.8) == (at.low > 0)
    # no gain to keep: the share is unbounded
    flat = retained_share(x, base, base.copy(), retained=0.8)
    assert flat.low == -np.inf and flat.high == np.inf
