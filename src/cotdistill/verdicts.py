"""A verdict on each claim of the study, from every run's per-example predictions.

The rules (written before the results were read, and printed in the summary):

* **Intervals.** Each comparison is a difference in accuracy on the same test
  questions with its 95% Welch/t composite interval: the seed-to-seed variance of
  each condition's accuracy plus the test-set variance of the per-question
  difference, with Satterthwaite's degrees of freedom (``cotdistill.stats``). In
  simulated studies with 3-4 seeds it covers 95-97% of true differences.
* **Gates: what is not judged.** A part of a claim is *not judged*, with its
  reason, when a condition it compares sits at the floor or the ceiling (every
  seed at 0% or every seed at 100%), when generation accuracy is the measure and a
  condition's students wrote a parseable answer on fewer than ``min_parse_rate``
  of the questions, when neither condition of an A > B or A ≥ B comparison is
  above chance (its interval's lower end above the chance accuracy: nothing was
  learned to compare), or when the config lacks a condition it needs. Nothing is
  concluded from a measure that cannot move.
* **A > B (superiority)** is *supported* when A - B is above 0 (one-sided, 2.5%,
  Holm-corrected over the family), *contradicted* when B - A is above 0 by the
  same test, else *inconclusive*. An inconclusive result whose interval lies above
  -margin reads "not inferior within ±margin; superiority not shown": more data
  could still show a small advantage.
* **A ≥ B (non-inferiority)** is *supported* when A - B is above -margin,
  *contradicted* when it is below -margin (same tests), else *inconclusive*.
* **A keeps B's gain** (for claims that "A is as good as B" where B is a
  rationale condition): the share of B's gain over label_only that A keeps,
  (A - label_only) / (B - label_only), with its Fieller interval. *Supported*
  when the share is above ``retained`` (declared in the config before the run),
  *contradicted* when it is below, else *inconclusive*. It is *not judged* when
  B > label_only is not itself supported: with no gain, there is nothing to keep.
* **A claim of several parts** is not judged when any part is, supported when
  every part is, contradicted when any part is, else inconclusive.
* **Family.** Each claim part is tested once per (student, teacher, dataset)
  unit; its supported and contradicted tests are Holm-corrected across those
  units (familywise error 5% per part and direction, two-sided).
* **The lens claim** (A's answer emerges at an earlier layer than B's) is decided
  on each run's emergence layer: the first layer from which the lens's top-choice
  accuracy stays above chance + fraction × the last layer's gain. Supported when
  every seed of A emerges before every seed of B under both the logit and the
  tuned lens, contradicted when every seed of A emerges after every seed of B
  under both, inconclusive when they disagree or the seeds overlap, not judged
  when a seed has no answer to emerge or the tuned lens is off. Beside it, a
  per-question measure: the layer from which the gold choice stays on top, on the
  questions every run of both conditions answers correctly, A - B with its
  interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Mapping, Sequence

import numpy as np
import pandas as pd

from . import stats

SUPPORTED, CONTRADICTED, INCONCLUSIVE = "supported", "contradicted", "inconclusive"
NOT_JUDGED = "not judged"
COLUMNS = ["student", "teacher", "dataset", "claim", "text", "verdict", "evidence"]
DEFAULT_MARGIN = 0.05
DEFAULT_METRIC = "gen_accuracy"
DEFAULT_RETAINED = 0.8
DEFAULT_MIN_PARSE_RATE = 0.5
ALPHA = 0.05  # two-sided: each direction is tested at 2.5%
BASE = "label_only"
METRIC_WORDS = {
    "gen_accuracy": "generation accuracy (the label the student writes)",
    "choice_accuracy": "choice accuracy (the letter the student scores highest)",
}

Kind = Literal[">", "≥", "keeps", "earlier"]


@dataclass(frozen=True)
class Settings:
    """The verdict rules' parameters (``verdicts:`` in the config)."""

    metric: str = DEFAULT_METRIC
    margin: float = DEFAULT_MARGIN  # accuracy units
    retained: float = DEFAULT_RETAINED  # share of the rationale's gain to keep
    min_parse_rate: float = DEFAULT_MIN_PARSE_RATE

    @classmethod
    def from_dict(cls, d: Mapping | None) -> "Settings":
        """The verdict settings of a config section; other keys are ignored."""
        return cls(**{k: v for k, v in (d or {}).items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Part:
    """One comparison a claim rests on: ``condition`` vs ``reference`` (``kind``)."""

    condition: str
    kind: Kind
    reference: str

    def __str__(self) -> str:
        if self.kind == "keeps":
            return f"{self.condition} keeps {self.reference}'s gain over {BASE}"
        return f"{self.condition} {self.kind} {self.reference}"

    def conditions(self) -> tuple[str, ...]:
        """The conditions this part reads (label_only too for 'keeps')."""
        return (self.condition, self.reference) + ((BASE,) if self.kind == "keeps" else ())


@dataclass(frozen=True)
class Claim:
    """A claim of the paper: its name, its text, the comparisons it rests on and what
    it means in plain words."""

    name: str
    text: str
    parts: tuple[Part, ...]
    plain: str  # what it means, for a reader outside the project


CLAIMS = (
    Claim(
        "after_beats_before",
        "a rationale after the label beats one before it",
        (Part("cot_after", ">", "cot_before"),),
        "Students trained to give the answer first and the teacher's reasoning after it "
        "answer more test questions correctly than students trained to reason first.",
    ),
    Claim(
        "after_not_worse_than_before",
        "a rationale after the label is at least as good as one before it",
        (Part("cot_after", "≥", "cot_before"),),
        "The weaker half of the same claim: answer-first students are no worse than "
        "reason-first ones by more than the margin.",
    ),
    Claim(
        "shuffled_after_matches_after",
        "shuffling the rationale's words after the label keeps its benefit",
        (Part("shuffled_after", "keeps", "cot_after"),),
        "If word order does not matter, a rationale with its words shuffled should keep "
        "most of what the intact rationale adds over training on the label alone.",
    ),
    Claim(
        "key_tokens_suffice",
        "the key tokens alone keep the full rationale's benefit and "
        "beat random tokens of the same budget",
        (
            Part("keytokens_after", "keeps", "cot_after"),
            Part("keytokens_after", ">", "randomtokens_after"),
        ),
        "A few rationale words chosen by integrated gradients should keep most of the "
        "rationale's gain, and more of it than the same number of random words.",
    ),
    Claim(
        "key_tokens_beat_answer_text",
        "the key tokens carry more than the gold answer's text",
        (Part("keytokens_after", ">", "answer_text_after"),),
        "Key words often restate the answer. If they only did that, training on the gold "
        "choice's text after the label would do as well as training on them.",
    ),
)
LENS_CLAIM = Claim(
    "lens_after_emerges_earlier",
    "with a rationale after the label, the answer "
    "emerges at an earlier layer than with the label alone",
    (Part("cot_after", "earlier", "label_only"),),
    "Reading the answer out of every layer, the rationale-trained student "
    "settles on it in an earlier layer than the label-only student.",
)


def claim_pairs() -> list[tuple[str, str]]:
    """(condition, reference) pairs the accuracy claims compare (the comparisons table)."""
    return list(dict.fromkeys((p.condition, p.reference) for c in CLAIMS for p in c.parts))


# ---- one part in one unit --------------------------------------------------------


@dataclass
class PartResult:
    """One part's numbers in one unit; ``gate`` is a reason not to judge it."""

    part: Part
    gate: str = ""
    estimate: float = math.nan
    low: float = math.nan
    high: float = math.nan
    p_support: float = math.nan
    p_contradict: float = math.nan
    extra: str = ""  # the gain's interval for shares
    verdict: str = NOT_JUDGED


def floor_gate(name: str, mats: Mapping[str, np.ndarray], s: Settings) -> str:
    """Why condition ``name`` cannot be judged, or '' (the parse rate counts for
    generation accuracy only)."""
    per_seed = mats[s.metric].mean(axis=1)
    if (per_seed == 0).all():
        return f"{name} is at the floor (every seed at 0%)"
    if (per_seed == 1).all():
        return f"{name} is at the ceiling (every seed at 100%)"
    if s.metric == "gen_accuracy" and "gen_parsed" in mats:
        rate = float(mats["gen_parsed"].mean())
        if rate < s.min_parse_rate:
            return (
                f"{name}'s students wrote a parseable answer on {100 * rate:.0f}% of the "
                f"questions (under {100 * s.min_parse_rate:.0f}%)"
            )
    return ""


def measure_part(
    part: Part, unit_mats: Mapping[str, Mapping[str, np.ndarray]], s: Settings
) -> PartResult:
    """The part's estimate, interval and one-sided p-values in one unit (unadjusted)."""
    missing = [c for c in part.conditions() if c not in unit_mats]
    if missing:
        return PartResult(part, gate=f"needs conditions: {', '.join(missing)}")
    gates = [g for g in (floor_gate(c, unit_mats[c], s) for c in part.conditions()) if g]
    if gates:
        return PartResult(part, gate="; ".join(gates))
    a, b = unit_mats[part.condition][s.metric], unit_mats[part.reference][s.metric]
    if part.kind in (">", "≥") and "chance" in unit_mats[part.condition]:
        chance = float(np.mean(unit_mats[part.condition]["chance"]))
        if not any(stats.accuracy_interval(m).low > chance for m in (a, b)):
            return PartResult(
                part,
                gate=f"neither {part.condition} ({100 * a.mean():.1f}%) nor "
                f"{part.reference} ({100 * b.mean():.1f}%) is above chance "
                f"({100 * chance:.1f}%)",
            )
    if part.kind == ">":
        iv = stats.paired_difference(a, b)
        return PartResult(part, "", iv.estimate, iv.low, iv.high, iv.p_above, iv.p_below)
    if part.kind == "≥":
        iv = stats.paired_difference(a, b, null=-s.margin)
        return PartResult(part, "", iv.estimate, iv.low, iv.high, iv.p_above, iv.p_below)
    if part.kind == "keeps":
        base = unit_mats[BASE][s.metric]
        gain = stats.paired_difference(b, base)
        gain_text = f"{part.reference} - {BASE}: {_points(gain.estimate, gain.low, gain.high)}"
        if not gain.low > 0:
            return PartResult(
                part, gate=f"the rationale brings no measurable gain here ({gain_text})"
            )
        share = stats.retained_share(a, b, base, s.retained)
        return PartResult(
            part,
            "",
            share.estimate,
            share.low,
            share.high,
            share.p_keeps,
            share.p_loses,
            extra=gain_text,
        )
    raise ValueError(f"unknown comparison {part.kind!r}")


def _points(d: float, low: float, high: float) -> str:
    return f"{100 * d:+.1f} points [{100 * low:+.1f}, {100 * high:+.1f}]"


def _share(d: float, low: float, high: float) -> str:
    def pct(x):
        return "-∞" if x == -math.inf else "+∞" if x == math.inf else f"{100 * x:.0f}%"

    return f"keeps {pct(d)} of the gain [{pct(low)}, {pct(high)}]"


def decide(p_support: float, p_contradict: float) -> str:
    """A judged part's verdict from its Holm-adjusted one-sided p-values."""
    if p_support < ALPHA / 2:
        return SUPPORTED
    return CONTRADICTED if p_contradict < ALPHA / 2 else INCONCLUSIVE


def describe(t: PartResult, s: Settings, family: int) -> str:
    """The evidence text of one part."""
    if t.verdict == NOT_JUDGED:
        return f"{t.part}: not judged: {t.gate}"
    if t.part.kind == "keeps":
        numbers = f"{_share(t.estimate, t.low, t.high)} (needs {100 * s.retained:.0f}%; {t.extra})"
    else:
        numbers = _points(t.estimate, t.low, t.high)
    holm = f", Holm over {family} units" if family > 1 else ""
    why = ""
    if t.verdict == INCONCLUSIVE and t.part.kind == ">":
        why = (
            f" (not inferior within ±{100 * s.margin:.0f} points; superiority not shown)"
            if t.low > -s.margin
            else f" (the interval reaches below -{100 * s.margin:.0f} points and above 0)"
        )
    return f"{t.part}: {numbers}{holm} → {t.verdict}{why}"


def combine(verdicts: Sequence[str]) -> str:
    """A claim's verdict from its parts': supported only when every part is."""
    if not verdicts or NOT_JUDGED in verdicts:
        return NOT_JUDGED
    if all(v == SUPPORTED for v in verdicts):
        return SUPPORTED
    return CONTRADICTED if CONTRADICTED in verdicts else INCONCLUSIVE


# ---- every claim in every unit ---------------------------------------------------

Matrices = Mapping[tuple, Mapping[str, np.ndarray]]  # (student, teacher, dataset, condition) ->


def verdicts(
    matrices: Matrices,
    settings: Settings = Settings(),
    emergence: pd.DataFrame | None = None,
    lens_paired: Mapping[tuple, tuple] | None = None,
) -> pd.DataFrame:
    """One row per (unit, claim): its verdict and the evidence of every part.

    ``matrices``: per run group, metric -> (seeds, examples) correctness (and
    ``gen_parsed``); ``emergence``: the lens emergence table; ``lens_paired``: per
    unit, (Interval, n questions) of the per-question settle-layer difference."""
    units = list(dict.fromkeys(k[:3] for k in matrices))
    by_unit = {u: {k[3]: v for k, v in matrices.items() if k[:3] == u} for u in units}
    tested = {
        (u, c.name, i): measure_part(p, by_unit[u], settings)
        for u in units
        for c in CLAIMS
        for i, p in enumerate(c.parts)
    }
    families = _holm(tested)
    rows = []
    for u in units:
        for claim in CLAIMS:
            parts = [tested[u, claim.name, i] for i in range(len(claim.parts))]
            evidence = "; ".join(
                describe(t, settings, families[claim.name, i]) for i, t in enumerate(parts)
            )
            rows.append(_row(u, claim, combine([t.verdict for t in parts]), evidence))
        if emergence is not None and len(emergence):
            rows.append(_lens_row(u, emergence, (lens_paired or {}).get(u)))
    return pd.DataFrame(rows, columns=COLUMNS)


def _holm(tested: dict) -> dict[tuple, int]:
    """Decide every judged part, Holm-correcting each part's tests across units.
    Returns the family size of each (claim, part index)."""
    sizes = {}
    for key in dict.fromkeys((c, i) for _, c, i in tested):
        members = [t for (u, c, i), t in tested.items() if (c, i) == key and not t.gate]
        sizes[key] = len(members)
        support = stats.holm([t.p_support for t in members])
        contradict = stats.holm([t.p_contradict for t in members])
        for t, ps, pc in zip(members, support, contradict):
            t.verdict = decide(ps, pc)
    return sizes


def _row(unit, claim: Claim, verdict: str, evidence: str) -> dict:
    return {
        "student": unit[0],
        "teacher": unit[1],
        "dataset": unit[2],
        "claim": claim.name,
        "text": claim.text,
        "verdict": verdict,
        "evidence": evidence,
    }


# ---- the lens claim ---------------------------------------------------------------


def decide_emergence(layers_a: Sequence, layers_b: Sequence) -> str:
    """Per-seed emergence layers of one lens (None/NaN: nothing emerged)."""

    def emerged(xs):
        return [x for x in xs if x is not None and not (isinstance(x, float) and math.isnan(x))]

    a, b = emerged(layers_a), emerged(layers_b)
    if not a or not b or len(a) < len(layers_a) or len(b) < len(layers_b):
        return NOT_JUDGED
    if max(a) < min(b):
        return SUPPORTED
    return CONTRADICTED if min(a) > max(b) else INCONCLUSIVE


def _layers(e: pd.DataFrame, lens: str, condition: str) -> list | None:
    row = e[(e["lens"] == lens) & (e["condition"] == condition)]
    if not len(row):
        return None
    return [
        None if x.strip() == "-" else int(x) for x in str(row.iloc[0]["layer_per_seed"]).split(",")
    ]


def _lens_row(unit, emergence: pd.DataFrame, paired) -> dict:
    part = LENS_CLAIM.parts[0]
    e = emergence[
        (emergence["student"] == unit[0])
        & (emergence["teacher"] == unit[1])
        & (emergence["dataset"] == unit[2])
    ]
    found, per_lens = {}, []
    for lens in ("logit", "tuned"):
        layers = {c: _layers(e, lens, c) for c in (part.condition, part.reference)}
        if any(v is None for v in layers.values()):
            continue
        found[lens] = decide_emergence(layers[part.condition], layers[part.reference])
        shown = "; ".join(
            f"{c} {', '.join('never' if x is None else str(x) for x in v)}"
            for c, v in layers.items()
        )
        per_lens.append(f"{lens} lens, emergence layer per seed: {shown} → {found[lens]}")
    if "logit" not in found:
        missing = [c for c in (part.condition, part.reference) if _layers(e, "logit", c) is None]
        return _row(unit, LENS_CLAIM, NOT_JUDGED, f"needs conditions: {', '.join(missing)}")
    if "tuned" not in found:
        verdict, why = NOT_JUDGED, "needs the tuned lens to confirm the logit lens (lens.tuned)"
    elif NOT_JUDGED in found.values():
        verdict, why = NOT_JUDGED, "a seed has no answer to emerge (its last layer is at chance)"
    elif found["logit"] == found["tuned"]:
        verdict, why = found["logit"], ""
    else:
        verdict, why = INCONCLUSIVE, "the logit and tuned lens disagree"
    evidence = "; ".join(per_lens + ([f"→ {verdict}: {why}"] if why else []))
    if paired is not None:
        iv, n = paired
        evidence += (
            f"; per question (the {n} questions every run of both answers correctly), "
            f"layer from which the gold choice stays on top, logit lens, "
            f"{part.condition} - {part.reference}: {iv.estimate:+.2f} layers "
            f"[{iv.low:+.2f}, {iv.high:+.2f}]"
            if n
            else "; per question: no question that every run of both answers correctly"
        )
    return _row(unit, LENS_CLAIM, verdict, evidence)


# ---- the summary ------------------------------------------------------------------

RULES = __doc__.split(
    "The rules (written before the results were read, and printed in the summary):"
)[1].strip()


def settings_line(s: Settings) -> str:
    """The rules a reader needs to weigh the verdicts, in one paragraph."""
    return (
        f"Measure: {METRIC_WORDS.get(s.metric, s.metric)}. Margin: ±{100 * s.margin:.0f} "
        f"points. Share of the rationale's gain a condition must keep: "
        f"{100 * s.retained:.0f}%. Minimum parse rate: {100 * s.min_parse_rate:.0f}%. "
        f"Intervals: 95% Welch/t composite (seeds and test questions). Tests: one-sided at "
        f"2.5% per direction, Holm-corrected across the units of each claim part."
    )


def family_line(table: pd.DataFrame) -> str:
    """How many units and claim parts the multiple-testing correction covers."""
    units = table[["student", "teacher", "dataset"]].drop_duplicates()
    n_claims = len(CLAIMS)
    names = ", ".join(" / ".join(u) for u in units.itertuples(index=False))
    return (
        f"Family: {len(units)} unit(s) ({names}) × {n_claims} accuracy claims "
        f"({sum(len(c.parts) for c in CLAIMS)} parts); each part's tests are Holm-corrected "
        f"across the {len(units)} unit(s)."
    )


def summary_markdown(
    table: pd.DataFrame, settings: Settings, notes: Sequence[str] = (), sections: Sequence[str] = ()
) -> str:
    """The verdicts page: settings, rules, family, a paragraph per claim and the verdicts."""
    lines = [
        "# Verdicts",
        "",
        settings_line(settings),
        "",
        family_line(table),
        "",
        "## What each claim means",
        "",
    ]
    for c in CLAIMS + (LENS_CLAIM,):
        if c.name in set(table["claim"]):
            lines += [f"- **{c.text}** ({c.name}). {c.plain}"]
    lines.append("")
    for key, g in table.groupby(["student", "teacher", "dataset"], sort=False):
        lines += [f"## {' / '.join(key)}", "", "| claim | verdict | evidence |", "|---|---|---|"]
        lines += [
            f"| {r['text']} | **{r['verdict']}** | {r['evidence']} |" for r in g.to_dict("records")
        ]
        lines.append("")
    lines += list(sections)
    if notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    lines += ["## Rules", "", RULES, ""]
    return "\n".join(lines)
