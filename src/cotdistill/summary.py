"""results/summary.md: the verdicts, and what a reader needs to trust them.

Beside the verdicts (``verdicts``) the page says what the students were trained
on: where each teacher's rationales state their answer (the style of the run), how
many training targets were cut to ``max_length``, how often a condition's rationale
part restates the answer, which rationale-first conditions rarely reach an
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
from .tables import read_provenance, read_table
from .targets import run_identity

log = logging.getLogger(__name__)
PARSE_WARNING = 0.95  # a rationale-first condition under this parse rate gets a warning


def _pct(x) -> str:
    return "" if x is None or pd.isna(x) else f"{100 * x:.1f}"


def rationale_section(paths: Sequence[str]) -> str:
    """Per teacher and dataset: rows, teacher accuracy, unparsed answers, and where the
    rationales state their answer (the style the students were trained on)."""
    from .teachers.answers import answer_position

    rows = []
    for path in paths:
        rat = read_table(path)
        where = Counter(answer_position(r) for r in rat["rationale"])
        n = max(len(rat), 1)
        rows.append({"teacher": Path(path).parent.parent.name, "dataset": Path(path).parent.name,
                     "rationales": len(rat),
                     "teacher correct (%)": _pct(rat["teacher_correct"].mean()),
                     "answer unparsed (%)": _pct(rat["teacher_answer"].isna().mean()),
                     "states answer first (%)": _pct(where["start"] / n),
                     "states answer last (%)": _pct(where["end"] / n),
                     "no answer statement (%)": _pct(where[None] / n),
                     "answer stripped": int(rat["answer_stripped"].sum())
                     if "answer_stripped" in rat else "off"})
    note = ("Where each rationale states its answer, after strip_answer if set: first (it opens "
            "with the statement, the answer-first style: a rationale 'before' the label then "
            "states the label first), last (its last sentence, the reason-first style), or not "
            "at all.")
    return "## Rationales\n\n" + aggregate.markdown(pd.DataFrame(rows), note)


def targets_section(train_logs: Sequence[str], condition_tables: Sequence[str]) -> str:
    """Per run group: training rows, targets cut to max_length, and the share of rows whose
    rationale part restates the answer."""
    draws: dict[tuple, list] = {}  # conditions that draw at random have a table per seed
    for path in condition_tables:
        p = Path(path)
        value = (read_provenance(path).get("params") or {}).get("restates_answer")
        if value is not None:
            draws.setdefault((p.parent.parent.parent.name, p.parent.parent.name, p.parent.name),
                             []).append(value)
    share = {k: sum(v) / len(v) for k, v in draws.items()}
    groups: dict[tuple, list] = {}
    for path in train_logs:
        ident = run_identity(path)
        params = read_provenance(path).get("params") or {}
        key = (ident["student"], ident["teacher"], ident["dataset"], ident["condition"])
        groups.setdefault(key, []).append((params.get("examples"), params.get("truncated")))
    rows = []
    for (student, teacher, dataset, condition), runs in groups.items():
        truncated = [t for _, t in runs if t is not None]
        rows.append({"student": student, "teacher": teacher, "dataset": dataset,
                     "condition": condition, "rows": runs[0][0],
                     "truncated per seed": " / ".join(map(str, truncated)) or "n/a",
                     "rationale restates the answer (%)":
                     _pct(share.get((teacher, dataset, condition)))})
    note = ("Truncated: targets longer than max_length, cut inside the rationale (the answer "
            "and EOS always kept). Restates the answer: the rationale part holds the gold letter "
            "or a content word of the gold choice's text (the mean over a condition's per-seed "
            "draws).")
    return "## Training targets\n\n" + aggregate.markdown(pd.DataFrame(rows), note)


def parse_warnings(runs: pd.DataFrame, prediction_paths: Sequence[str]) -> list[str]:
    """A line per rationale-first run group whose students wrote a parseable answer on
    fewer than 95% of the questions."""
    first = {p for p in prediction_paths
             if (read_provenance(p).get("params") or {}).get("max_new_tokens_rationale")}
    out = []
    for key, g in runs[runs["predictions"].isin(first)].groupby(aggregate.KEYS, sort=False):
        rate = float(g["gen_parse_rate"].mean())
        if rate < PARSE_WARNING:
            out.append(f"{' / '.join(key)}: a parseable answer on {100 * rate:.1f}% of the "
                       f"questions (under {100 * PARSE_WARNING:.0f}%); unparsed answers count as "
                       "wrong in generation accuracy (choice accuracy does not parse)")
    return out


def lens_pairs(lens_paths: Sequence[str]) -> dict:
    """Per unit, the per-question settle-layer comparison of the lens claim's conditions."""
    from .lens.summary import paired_settle

    part = V.LENS_CLAIM.parts[0]
    by_unit: dict[tuple, dict[str, list]] = {}
    for path in lens_paths:
        ident = run_identity(path)
        unit = (ident["student"], ident["teacher"], ident["dataset"])
        by_unit.setdefault(unit, {}).setdefault(ident["condition"], []).append(path)
    out = {}
    for unit, paths in by_unit.items():
        if part.condition in paths and part.reference in paths:
            iv, n = paired_settle(paths[part.condition], paths[part.reference])
            out[unit] = (iv, n if iv is not None else 0)
    return out


def write_summary(predictions: Sequence[str], settings: V.Settings, out_md: str, out_csv: str,
                  out_html: str | None = None, emergence: str | None = None,
                  lens: Sequence[str] = (), train_logs: Sequence[str] = (),
                  condition_tables: Sequence[str] = (), rationales: Sequence[str] = (),
                  data: Sequence[str] = (), notes: Sequence[str] = ()) -> pd.DataFrame:
    """Decide every claim from the runs' predictions and write the summary page."""
    from .data.counts import data_section

    runs = aggregate.per_run(predictions)
    table = V.verdicts(aggregate.correctness(runs), settings,
                       pd.read_csv(emergence) if emergence else None,
                       lens_pairs(lens) if lens else None)
    warnings = parse_warnings(runs, predictions)
    sections = []
    if warnings:
        sections += ["## Warnings", ""] + [f"- {w}" for w in warnings] + [""]
    if rationales:
        sections.append(rationale_section(rationales))
    if train_logs:
        sections.append(targets_section(train_logs, condition_tables))
    if data:
        sections.append(data_section(list(data)))
    text = V.summary_markdown(table, settings, notes, sections)
    Path(out_csv).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out_csv, index=False)
    Path(out_md).write_text(text)
    if out_html:
        from .plotting import write_html

        write_html([("", table.drop(columns=["claim"]))], "\n".join(list(notes) + warnings),
                   out_html, "Verdicts", preamble=V.settings_line(settings) + "\n\n" + V.RULES)
    for r in table.to_dict("records"):
        log.info("%s / %s / %s: %s: %s", r["student"], r["teacher"], r["dataset"], r["claim"],
                 r["verdict"])
    counts = table["verdict"].value_counts()
    log.info("verdicts: %s", ", ".join(f"{n} {v}" for v, n in counts.items()) or "none")
    return table

