"""A verdict on each claim of the study, from the paired comparisons.

The rules (written before the results were read, and printed in the summary):

* ``A > B`` is *supported* when the 95% paired-bootstrap interval of A - B lies
  above 0, *contradicted* when it lies at or below 0, else *inconclusive*.
* ``A ≈ B`` is *supported* when that interval lies within ±margin, *contradicted*
  when it lies entirely outside that band, else *inconclusive*.
* A claim of several parts is supported when every part is, contradicted when
  any part is, else inconclusive.
* The lens claim (``A`` emerges earlier than ``B``) is decided on emergence
  layers: supported when every seed of A emerges at an earlier layer than every
  seed of B, contradicted when every seed of A emerges later than every seed of
  B, else inconclusive; it is inconclusive too when some seed of either has no
  answer to emerge (its last layer is not above chance).
* An inconclusive ``A > B`` says why: the interval lies within ±margin (the two
  are equal within it, and more seeds would not decide it), or it is wider.

The margin is ``verdicts.margin`` (5 points unless set): with a few hundred test
questions a paired 95% interval is rarely narrower than ±5 points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import pandas as pd

SUPPORTED, CONTRADICTED, INCONCLUSIVE = "supported", "contradicted", "inconclusive"
NOT_JUDGED = "not judged"   # the config lacks a condition the claim compares
COLUMNS = ["student", "teacher", "dataset", "claim", "text", "verdict", "evidence"]
DEFAULT_MARGIN = 0.05
DEFAULT_METRIC = "gen_accuracy"
METRIC_WORDS = {"gen_accuracy": "generation accuracy (the label the student writes)",
                "choice_accuracy": "choice accuracy (the letter the student scores highest)"}


@dataclass(frozen=True)
class Part:
    """One comparison a claim rests on: ``condition`` vs ``reference``, ``kind`` '>' or '≈'."""

    condition: str
    kind: str
    reference: str

    def __str__(self) -> str:
        return f"{self.condition} {self.kind} {self.reference}"


@dataclass(frozen=True)
class Claim:
    name: str
    text: str
    parts: tuple[Part, ...]


CLAIMS = (
    Claim("after_beats_before", "a rationale after the label beats one before it",
          (Part("cot_after", ">", "cot_before"),)),
    Claim("shuffled_after_matches_after",
          "shuffling the rationale's words after the label costs nothing",
          (Part("shuffled_after", "≈", "cot_after"),)),
    Claim("key_tokens_suffice", "the key tokens alone match the full rationale and beat "
          "random tokens of the same budget",
          (Part("keytokens_after", "≈", "cot_after"),
           Part("keytokens_after", ">", "randomtokens_after"))),
)
LENS_CLAIM = Claim("lens_after_emerges_earlier", "with a rationale after the label, the answer "
                   "emerges at an earlier layer than with the label alone (logit lens)",
                   (Part("cot_after", "earlier", "label_only"),))


def claim_pairs() -> list[tuple[str, str]]:
    """(condition, reference) pairs the accuracy claims compare."""
    return [(p.condition, p.reference) for c in CLAIMS for p in c.parts]


def decide(kind: str, low: float, high: float, margin: float) -> str:
    """The verdict of one comparison from its interval (accuracy units)."""
    if kind == ">":
        return SUPPORTED if low > 0 else CONTRADICTED if high <= 0 else INCONCLUSIVE
    if kind == "≈":
        if -margin <= low and high <= margin:
            return SUPPORTED
        return CONTRADICTED if low > margin or high < -margin else INCONCLUSIVE
    raise ValueError(f"unknown comparison {kind!r}")


def decide_emergence(layers_a: Sequence, layers_b: Sequence) -> str:
    """Lens rule: per-seed emergence layers (None/NaN: nothing emerged)."""
    def emerged(xs):
        return [x for x in xs if x is not None and not (isinstance(x, float) and math.isnan(x))]

    a, b = emerged(layers_a), emerged(layers_b)
    if not a or not b or len(a) < len(layers_a) or len(b) < len(layers_b):
        return INCONCLUSIVE
    if max(a) < min(b):
        return SUPPORTED
    return CONTRADICTED if min(a) > max(b) else INCONCLUSIVE


def combine(verdicts: Sequence[str]) -> str:
    if verdicts and all(v == SUPPORTED for v in verdicts):
        return SUPPORTED
    return CONTRADICTED if CONTRADICTED in verdicts else INCONCLUSIVE


def _comparison(comparisons: pd.DataFrame, unit: tuple, metric: str, part: Part):
    """(low, high, difference) of ``part`` in the comparisons table, or None."""
    rows = comparisons
    for col, value in zip(("student", "teacher", "dataset"), unit):
        rows = rows[rows[col] == value]
    rows = rows[rows["metric"] == metric]
    direct = rows[(rows["condition"] == part.condition) & (rows["reference"] == part.reference)]
    if len(direct):
        r = direct.iloc[0]
        return r["low"], r["high"], r["difference"]
    flipped = rows[(rows["condition"] == part.reference) & (rows["reference"] == part.condition)]
    if len(flipped):
        r = flipped.iloc[0]
        return -r["high"], -r["low"], -r["difference"]
    return None


def verdicts(comparisons: pd.DataFrame, emergence: pd.DataFrame | None, metric: str,
             margin: float = DEFAULT_MARGIN) -> pd.DataFrame:
    """One row per (unit, claim): the verdict, and per part its numbers and verdict.
    A claim whose conditions the config lacks is 'not judged' and names them."""
    rows = []
    units = comparisons[["student", "teacher", "dataset"]].drop_duplicates().itertuples(index=False)
    for unit in units:
        unit = tuple(unit)
        for claim in CLAIMS:
            found = [(_comparison(comparisons, unit, metric, p), p) for p in claim.parts]
            if any(f is None for f, _ in found):
                present = set(comparisons["condition"]) | set(comparisons["reference"])
                missing = sorted({c for p in claim.parts for c in (p.condition, p.reference)}
                                 - present)
                rows.append({**_row(unit, claim, [], ""), "verdict": NOT_JUDGED,
                             "evidence": f"needs conditions: {', '.join(missing)}"})
                continue
            parts = [(p, decide(p.kind, low, high, margin), diff, low, high)
                     for (low, high, diff), p in found]
            rows.append(_row(unit, claim, parts,
                             "; ".join(f"{p}: {100 * d:+.1f} points [{100 * lo:+.1f}, "
                                       f"{100 * hi:+.1f}] → {v}{_why(p, v, lo, hi, margin)}"
                                       for p, v, d, lo, hi in parts)))
        if emergence is not None and len(emergence):
            rows += _lens_rows(unit, emergence)
    return pd.DataFrame(rows, columns=COLUMNS)


def _why(part: Part, verdict: str, low: float, high: float, margin: float) -> str:
    """Why an 'A > B' part is inconclusive: the conditions are equal within the margin
    (more seeds would not decide it), or the interval is wider than the margin."""
    if part.kind != ">" or verdict != INCONCLUSIVE:
        return ""
    if -margin <= low and high <= margin:
        return f" (equal within ±{100 * margin:.0f} points: no advantage either way to detect)"
    return f" (the interval spans more than ±{100 * margin:.0f} points: too few seeds or examples)"


def _row(unit, claim: Claim, parts, evidence: str) -> dict:
    return {"student": unit[0], "teacher": unit[1], "dataset": unit[2], "claim": claim.name,
            "text": claim.text, "verdict": combine([v for _, v, *_ in parts]),
            "evidence": evidence}


def _lens_rows(unit, emergence: pd.DataFrame) -> list[dict]:
    part = LENS_CLAIM.parts[0]
    e = emergence[(emergence["student"] == unit[0]) & (emergence["teacher"] == unit[1])
                  & (emergence["dataset"] == unit[2]) & (emergence["lens"] == "logit")]
    layers = {}
    for cond in (part.condition, part.reference):
        row = e[e["condition"] == cond]
        if not len(row):
            return [{**_row(unit, LENS_CLAIM, [], ""), "verdict": NOT_JUDGED,
                     "evidence": f"needs conditions: {cond}"}]
        layers[cond] = [None if x.strip() == "-" else int(x)
                        for x in str(row.iloc[0]["layer_per_seed"]).split(",")]
    verdict = decide_emergence(layers[part.condition], layers[part.reference])
    shown = {c: ", ".join("never" if x is None else str(x) for x in v) for c, v in layers.items()}
    evidence = (f"emergence layer per seed: {part.condition} {shown[part.condition]}; "
                f"{part.reference} {shown[part.reference]} → {verdict}")
    return [_row(unit, LENS_CLAIM, [(part, verdict)], evidence)]


RULES = __doc__.split("The rules (written before the results were read, and printed in the "
                      "summary):")[1].strip()


def summary_markdown(table: pd.DataFrame, metric: str, margin: float,
                     notes: Sequence[str] = ()) -> str:
    lines = ["# Verdicts", "",
             f"Accuracy measure: {METRIC_WORDS.get(metric, metric)}. Equivalence margin: ±{100 * margin:.0f} "
             "points. Numbers: paired difference in accuracy, percentage points, with its 95% "
             "bootstrap interval over seeds and test examples (results/tables/comparisons.md).",
             "", "## Rules", "", RULES, ""]
    for key, g in table.groupby(["student", "teacher", "dataset"], sort=False):
        lines += [f"## {' / '.join(key)}", "", "| claim | verdict | evidence |", "|---|---|---|"]
        lines += [f"| {r['text']} | **{r['verdict']}** | {r['evidence']} |"
                  for r in g.to_dict("records")]
        lines.append("")
    if notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    return "\n".join(lines)
