"""results/summary.md: the verdicts, and what a reader needs to trust them.

Beside the verdicts (``verdicts``) the page says what the students were trained
on: how many training questions each teacher covered (a warning when not all), its
accuracy and unparsed answers, where its rationales state their answer (the style of
the run), the rows each condition trained on, how many training targets were cut to
``max_length``, how often a condition's rationale part restates the answer, how much
of the rationale a budget keeps, which rationale-first conditions rarely reach an
``Answer:``, and what each dataset split kept. Every figure is read from the run's
own files (predictions, training logs, condition and rationale tables).
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path
from typing import Sequence

import pandas as pd

from . import aggregate, verdicts as V
from .tables import markdown, read_provenance, read_table
from .runs import read_identity

log = logging.getLogger(__name__)
PARSE_WARNING = 0.95  # a rationale-first condition under this parse rate gets a warning


def _pct(x) -> str:
    return "" if x is None or pd.isna(x) else f"{100 * x:.1f}"


def rationale_table(paths: Sequence[str]) -> pd.DataFrame:
    """Per teacher and dataset: the training questions and how many the teacher covered,
    its accuracy and unparsed answers (over the covered ones), and where the rationales
    state their answer (the style the students were trained on)."""
    from .teachers.answers import answer_position

    rows = []
    for path in paths:
        rat = read_table(path)
        coverage = (read_provenance(path).get("params") or {}).get("coverage") or {}
        match = coverage.get("match") or {}
        where = Counter(answer_position(r) for r in rat["rationale"])
        n = max(len(rat), 1)
        rows.append(
            {
                "teacher": Path(path).parent.parent.name,
                "dataset": Path(path).parent.name,
                "questions": coverage.get("examples", ""),
                "covered": len(rat),
                "coverage (%)": _pct(coverage.get("coverage")),
                "matched by": match.get("by", ""),
                "teacher correct (%)": _pct(rat["teacher_correct"].mean()),
                "answer unparsed (%)": _pct(rat["teacher_answer"].isna().mean()),
                "states answer first (%)": _pct(where["start"] / n),
                "states answer last (%)": _pct(where["end"] / n),
                "no answer statement (%)": _pct(where[None] / n),
                "answer stripped": int(rat["answer_stripped"].sum())
                if "answer_stripped" in rat
                else "off",
            }
        )
    return pd.DataFrame(rows)


RATIONALE_NOTE = (
    "Questions: the training split; covered: those with a rationale, the only ones any "
    "condition trains on. Teacher correct and unparsed are shares of the covered questions "
    "(an answer naming no single letter is unparsed and counts as incorrect). Where each "
    "rationale states its answer, after strip_answer if set: first (it opens with the "
    "statement, the answer-first style: a rationale 'before' the label then states the label "
    "first), last (its last sentence, the reason-first style), or not at all."
)


def coverage_warnings(table: pd.DataFrame) -> list[str]:
    """A line per teacher and dataset whose rationales miss some training questions."""
    out = []
    for r in table.to_dict("records"):
        if r["questions"] != "" and r["covered"] < r["questions"]:
            out.append(
                f"{r['teacher']} / {r['dataset']}: the teacher's rationales cover "
                f"{r['covered']} of {r['questions']} training questions "
                f"({r['coverage (%)']}%). Every condition, label_only too, trains on "
                f"these {r['covered']} only, by design: the conditions differ in their "
                "targets alone"
            )
    return out


def targets_table(train_logs: Sequence[str], condition_tables: Sequence[str]) -> pd.DataFrame:
    """Per run group: training rows, targets cut to max_length, the share of rows whose
    rationale part restates the answer, and the share of rationale units a budget keeps."""
    from .curves import kept_shares, mean_over_draws

    restates = mean_over_draws(condition_tables, lambda p: p.get("restates_answer"))
    kept = kept_shares(condition_tables)
    groups: dict[tuple, list] = {}
    for path in train_logs:
        ident = read_identity(path)
        params = read_provenance(path).get("params") or {}
        key = (ident["student"], ident["teacher"], ident["dataset"], ident["condition"])
        groups.setdefault(key, []).append((params.get("examples"), params.get("truncated")))
    rows = []
    for (student, teacher, dataset, condition), runs in groups.items():
        truncated = [t for _, t in runs if t is not None]
        group = (teacher, dataset, condition)
        rows.append(
            {
                "student": student,
                "teacher": teacher,
                "dataset": dataset,
                "condition": condition,
                "rows trained on": runs[0][0],
                "truncated per seed": " / ".join(map(str, truncated)) or "n/a",
                "rationale restates the answer (%)": _pct(restates.get(group)),
                "budget keeps (% of words)": _pct(kept.get(group)),
            }
        )
    return pd.DataFrame(rows)


TARGETS_NOTE = (
    "Rows trained on: the covered questions (teacher-correct ones only with only_correct). "
    "Truncated: targets longer than max_length, cut inside the rationale (the answer and EOS "
    "always kept). Restates the answer: the rationale part holds the gold letter or a content "
    "word of the gold choice's text. Budget keeps: the mean share of a rationale's units that "
    "a key-token, random-token or masked condition keeps. Shares are means over a "
    "condition's per-seed draws."
)


def parse_warnings(runs: pd.DataFrame, prediction_paths: Sequence[str]) -> list[str]:
    """A line per rationale-first run group whose students wrote a parseable answer on
    fewer than 95% of the questions."""
    first = {
        p
        for p in prediction_paths
        if (read_provenance(p).get("params") or {}).get("max_new_tokens_rationale")
    }
    out = []
    for key, g in runs[runs["predictions"].isin(first)].groupby(aggregate.KEYS, sort=False):
        rate = float(g["gen_parse_rate"].mean())
        if rate < PARSE_WARNING:
            out.append(
                f"{' / '.join(key)}: a parseable answer on {100 * rate:.1f}% of the "
                f"questions (under {100 * PARSE_WARNING:.0f}%); unparsed answers count as "
                "wrong in generation accuracy (choice accuracy does not parse)"
            )
    return out


def lens_pairs(lens_paths: Sequence[str]) -> dict:
    """Per unit, the per-question settle-layer comparison of the lens claim's conditions."""
    from .lens.summary import paired_settle

    part = V.LENS_CLAIM.parts[0]
    by_unit: dict[tuple, dict[str, list]] = {}
    for path in lens_paths:
        ident = read_identity(path)
        unit = (ident["student"], ident["teacher"], ident["dataset"])
        by_unit.setdefault(unit, {}).setdefault(ident["condition"], []).append(path)
    out = {}
    for unit, paths in by_unit.items():
        if part.condition in paths and part.reference in paths:
            iv, n = paired_settle(paths[part.condition], paths[part.reference])
            out[unit] = (iv, n if iv is not None else 0)
    return out


def write_summary(
    predictions: Sequence[str],
    settings: V.Settings,
    out_md: str,
    out_csv: str,
    out_html: str | None = None,
    emergence: str | None = None,
    lens: Sequence[str] = (),
    train_logs: Sequence[str] = (),
    condition_tables: Sequence[str] = (),
    rationales: Sequence[str] = (),
    data: Sequence[str] = (),
    notes: Sequence[str] = (),
) -> pd.DataFrame:
    """Decide every claim from the runs' predictions and write the summary page."""
    from .data.counts import data_section

    runs = aggregate.per_run(predictions)
    table = V.verdicts(
        aggregate.correctness(runs),
        settings,
        pd.read_csv(emergence) if emergence else None,
        lens_pairs(lens) if lens else None,
    )
    warnings = parse_warnings(runs, predictions)
    frames = [("Verdicts", table.drop(columns=["claim"]))]
    sections = []
    if rationales:
        rat = rationale_table(rationales)
        warnings = coverage_warnings(rat) + warnings
        sections.append("## Rationales\n\n" + markdown(rat, RATIONALE_NOTE))
        frames.append(("Rationales", rat))
    if train_logs:
        targets = targets_table(train_logs, condition_tables)
        sections.append("## Training targets\n\n" + markdown(targets, TARGETS_NOTE))
        frames.append(("Training targets", targets))
    if data:
        sections.append(data_section(list(data)))
    if warnings:
        sections = ["## Warnings", ""] + [f"- {w}" for w in warnings] + [""] + sections
    text = V.summary_markdown(table, settings, notes, sections)
    Path(out_csv).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out_csv, index=False)
    Path(out_md).write_text(text)
    if out_html:
        from .plotting import write_html

        write_html(
            frames,
            "\n".join(list(notes) + [f"Warning: {w}" for w in warnings]),
            out_html,
            "Verdicts",
            preamble=V.settings_line(settings) + "\n\n" + V.RULES,
        )
    for r in table.to_dict("records"):
        log.info(
            "%s / %s / %s: %s: %s",
            r["student"],
            r["teacher"],
            r["dataset"],
            r["claim"],
            r["verdict"],
        )
    counts = table["verdict"].value_counts()
    log.info("verdicts: %s", ", ".join(f"{n} {v}" for v, n in counts.items()) or "none")
    return table
