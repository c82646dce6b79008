"""Do the verdicts' intervals cover what they say? The method before (two-level
percentile bootstrap) against today's (Welch/t composite), on the same simulated
studies, and the audit's all-at-chance study under the old and the new verdict rule.

    python benchmarks/interval_coverage.py [--studies 2000] [--n-boot 2000]

Simulated studies (``cotdistill.simulation``): 1,221 test questions, 3 or 4 seeds, a
seed-to-seed SD of one run's accuracy of 1.7 or 3.4 points, the true difference 0 (for
the false "A > B" rate) and about +5 points. Each row prints both methods' coverage of
the truth and their false "supported" rate, and the ratio of misses (1 - coverage).
"""

import argparse
import time

import numpy as np

import common  # noqa: F401  (puts src/ on the path)
from cotdistill import stats, verdicts
from cotdistill.simulation import Design, coverage


def chance_study(seed: int = 0, n: int = 1221, seeds: int = 3) -> dict:
    """The audit's case: every condition at 20% (5 choices), 3 seeds."""
    rng = np.random.default_rng(seed)
    out = {}
    for c in (
        "label_only",
        "cot_before",
        "cot_after",
        "shuffled_after",
        "keytokens_after",
        "randomtokens_after",
        "answer_text_after",
    ):
        m = rng.random((seeds, n)) < 0.2
        out[("s", "t", "d", c)] = {
            "gen_accuracy": m,
            "choice_accuracy": m,
            "gen_parsed": np.ones_like(m),
            "chance": np.full(n, 0.2),
        }
    return out


def old_rule(study: dict, margin: float = 0.05) -> str:
    """Before: 'shuffled after ≈ after' supported when the bootstrap interval of their
    difference lies within ±margin (no gain needed)."""
    a = study[("s", "t", "d", "shuffled_after")]["gen_accuracy"]
    b = study[("s", "t", "d", "cot_after")]["gen_accuracy"]
    iv = stats.bootstrap_paired_difference(a, b)
    verdict = "supported" if -margin <= iv.low and iv.high <= margin else "not supported"
    return f"{100 * iv.estimate:+.1f} [{100 * iv.low:+.1f}, {100 * iv.high:+.1f}] → {verdict}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--studies", type=int, default=2000)
    parser.add_argument("--n-boot", type=int, default=2000)
    args = parser.parse_args()

    def boot(a, b):
        return stats.bootstrap_paired_difference(a, b, n_boot=args.n_boot)

    print(f"{args.studies} simulated studies per row, N = 1221, bootstrap {args.n_boot} replicates")
    print(
        "| seeds | seed SD | truth (points) | bootstrap coverage | Welch coverage | "
        "bootstrap false 'A > B' | Welch false 'A > B' | misses Welch / bootstrap |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for n_seeds in (3, 4):
        for sd in (0.017, 0.034):
            for mu in (0.0, 0.3):
                design = Design(n_seeds, seed_sd=sd, mu_a=mu)
                t0 = time.perf_counter()
                old = coverage(design, boot, args.studies, seed=11)
                new = coverage(design, stats.paired_difference, args.studies, seed=11)
                false_old = "" if mu else f"{100 * old.false_supported:.1f}%"
                false_new = "" if mu else f"{100 * new.false_supported:.1f}%"
                ratio = (1 - new.coverage) / max(1 - old.coverage, 1e-9)
                print(
                    f"| {n_seeds} | {100 * sd:.1f} | {100 * design.truth():+.1f} | "
                    f"{100 * old.coverage:.1f}% | {100 * new.coverage:.1f}% | {false_old} | "
                    f"{false_new} | {ratio:.2f} |  ({time.perf_counter() - t0:.0f} s)"
                )
    study = chance_study()
    table = verdicts.verdicts(study).set_index("claim")
    print("\nEvery condition at chance (3 seeds x 1,221 questions at 20%):")
    print(f"  before: shuffled_after ≈ cot_after: {old_rule(study)}")
    print(
        f"  now:    {table.loc['shuffled_after_matches_after', 'verdict']}: "
        f"{table.loc['shuffled_after_matches_after', 'evidence']}"
    )


if __name__ == "__main__":
    main()
