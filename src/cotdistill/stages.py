"""One function per workflow stage: paths and params in, files out.

Workflow scripts are thin wrappers around these; tests call them directly.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from . import conditions as cond
from . import runs
from .data import letters, load_dataset_split
from .errors import InputError, saving
from .models import convert_to_hf, locate
from .tables import markdown, read_table, write_table
from .teachers import run_teacher

# torch and transformers (about 4 s to import) are imported inside the stages that
# use a model, so the many light jobs (data, conditions, tables) start in under a second

log = logging.getLogger(__name__)

# words every condition may write; a scratch tokenizer must know them (_ is the placeholder)
FORMAT_WORDS = "Question: Choices: Answer: Reason: (A) (B) (C) (D) (E) ... _"


def make_data(spec: Mapping, split: str, out: str) -> None:
    """One normalised dataset split as a Parquet table (skips counted in its provenance)."""
    df = load_dataset_split(spec, split)
    skipped = df.attrs.get("skipped", {})
    log.info(
        "%s split: %d examples%s",
        split,
        len(df),
        f" ({skipped['repeated_choices']} skipped: repeated choice texts)" if skipped else "",
    )
    write_table(df, out, params={"dataset": dict(spec), "split": split, "skipped": skipped})


def convert_model(spec: Mapping, out_dir: str) -> None:
    """A GGUF source dequantised into a safetensors folder."""
    convert_to_hf(spec, out_dir)


def make_rationales(
    spec: Mapping, data_path: str, split: str, out: str, weights: str | None = None
) -> None:
    """``weights``: a converted local copy of the teacher's model (GGUF sources).

    Backends that generate write shards next to ``out`` (``SPLIT.shards/``) so
    a killed job, run again, generates only the missing shards.
    """
    data = read_table(data_path)
    if weights:
        spec = {**spec, "weights": weights}
    rat = run_teacher(spec, data, split, shard_dir=str(Path(out).with_suffix(".shards")))
    coverage = teacher_coverage(data, rat)
    log.info(
        "%d rationales for %d examples (%.1f%% coverage); teacher correct on %.1f%%; "
        "stated answer unparsed on %.1f%%",
        coverage["rationales"],
        coverage["examples"],
        100 * coverage["coverage"],
        100 * coverage["teacher_accuracy"],
        100 * coverage["unparsed"],
    )
    write_table(
        rat,
        out,
        params={"teacher": dict(spec), "split": split, "coverage": coverage},
        upstream=[data_path],
    )


def teacher_coverage(data, rat) -> dict:
    """What a teacher wrote for a split: the examples it covered, its accuracy and the
    share of stated answers that did not parse (over the covered ones), and how a
    rationale file was matched (``match``, precomputed teachers only)."""
    n = len(rat)
    return {
        "examples": len(data),
        "rationales": n,
        "coverage": n / len(data) if len(data) else 0.0,
        "teacher_accuracy": float(rat["teacher_correct"].mean()) if n else 0.0,
        "unparsed": float(rat["teacher_answer"].isna().mean()) if n else 0.0,
        "match": rat.attrs.get("match"),
    }


def _refuse_leaks(train_data: str, test_data: str, allow_overlap: bool):
    """(train table, test table, test questions also in train); stops on a leak unless
    ``allow_overlap`` (then they are counted in the log and the tables' provenance)."""
    from .data.overlap import LEAK_FIX, leak_problem, overlapping

    data, test = read_table(train_data), read_table(test_data)
    leaked = overlapping(data, test)
    if len(leaked) and not allow_overlap:
        raise InputError(
            test_data,
            None,
            leak_problem(leaked, "this table", train_data),
            LEAK_FIX.format(key="the dataset's allow_overlap"),
        )
    if len(leaked):
        log.warning("%d test questions also appear in train (allow_overlap: true)", len(leaked))
    return data, test, leaked


def make_conditions(
    name: str,
    spec: Mapping | None,
    only_correct: bool,
    train_data: str,
    rationales: str,
    out_train: str,
    scores: str | None = None,
    draw: int = 0,
) -> None:
    """A condition's training table. ``scores``: the scores table of the source the
    condition reads, if it needs one; ``draw``: the training seed whose random draw a
    condition that draws makes (0 for the others). It reads no test row (leaks are
    stopped by ``make_condition_test``), so a test-only edit retrains nothing."""
    data = read_table(train_data)
    rat = read_table(rationales)
    table = read_table(scores) if scores else None
    rows = cond.build_train(
        name,
        spec,
        data,
        rat,
        only_correct=only_correct,
        scores=table,
        scores_path=scores or "scores",
        rationales_path=rationales,
        draw=draw,
    )
    log.info(
        "condition %s (draw %d): %d training rows (of %d examples)",
        name,
        draw,
        len(rows),
        len(data),
    )
    kept = rows.attrs.get("budget")
    if kept:
        log.info(
            "its budget keeps %.0f%% of each rationale's %ss on average; %d of %d rows "
            "keep the whole rationale",
            100 * kept["kept_share"],
            kept["unit"],
            kept["rows_kept_whole"],
            kept["rows"],
        )
    params = {
        "condition": name,
        "spec": spec,
        "only_correct": only_correct,
        "draw": draw,
        "rows": len(rows),
        "examples": len(data),
        "restates_answer": cond.answer_share(rows),
        "budget": kept,
    }
    upstream = [train_data, rationales] + ([scores] if scores else [])
    write_table(rows, out_train, params=params, upstream=upstream)


def make_condition_test(
    name: str,
    rationale_first: bool,
    train_data: str,
    test_data: str,
    out_test: str,
    allow_overlap: bool = False,
) -> None:
    """A condition's test table: the shared test prompts, and whether its students write
    a rationale first. Its own job, so a test-only edit re-evaluates but retrains nothing."""
    _, test_table, leaked = _refuse_leaks(train_data, test_data, allow_overlap)
    test = cond.build_test(test_table)
    test["rationale_first"] = bool(rationale_first)
    log.info(
        "condition %s: %d test questions (%s)",
        name,
        len(test),
        "the student writes its rationale first" if rationale_first else "label first",
    )
    write_table(
        test,
        out_test,
        params={
            "condition": name,
            "rationale_first": rationale_first,
            "overlap_with_train": len(leaked),
        },
        upstream=[test_data],
    )


def make_attribution(
    spec: Mapping,
    train_data: str,
    rationales: str,
    out: str,
    model_dir: str | None = None,
    threads: int = 1,
    progress: bool = True,
) -> None:
    """Scores of every training rationale's positions (see ``attribution.scores``).

    ``spec``: the resolved entry (``config.attribution_spec``); ``model_dir``: a
    trained run's model folder, or a converted copy of a GGUF source.
    """
    from .attribution.scores import known_key_word_scores

    examples = read_table(train_data).merge(read_table(rationales), on="id", how="inner")
    upstream = [train_data, rationales]
    if spec["method"] == "known":
        table = known_key_word_scores(examples)
        log.info("known key words: %d examples, %d words", examples["id"].nunique(), len(table))
        write_table(table, out, params={"attribution": dict(spec)}, upstream=upstream)
        return
    import torch
    from .attribution.attributor import IGConfig, ig_scores
    from .models import load_causal_lm
    from .students import load_tokenizer
    from .train import pick_device

    torch.set_num_threads(max(1, threads))
    cfg = IGConfig.from_dict(spec)
    source = spec["model"]
    path, kw = locate(source, model_dir)  # a run's folder, converted weights, or the source
    model = load_causal_lm(path, source.get("dtype", cfg.dtype), **kw)
    model.to(pick_device(cfg.device))
    tok = load_tokenizer(path, **kw)
    table, summary = ig_scores(model, tok, examples, cfg, progress)
    log.info(
        "scored %d rationale tokens of %d examples; baseline %r (id %d); median "
        "|delta| / |F(x) - F(baseline)| = %.2e",
        summary["tokens_scored"],
        summary["examples"],
        summary["baseline_token"],
        summary["baseline_id"],
        summary["median_rel_delta"],
    )
    write_table(
        table,
        out,
        params={"attribution": dict(spec), **summary},
        upstream=upstream + ([model_dir] if model_dir else []),
    )


def make_attribution_figure(scores: str, rationales: str, out: str, title: str) -> None:
    """The shaded-rationale figure of one scores table."""
    from .attribution.figure import shaded_rationales

    shaded_rationales(read_table(scores), read_table(rationales), out, title=title)


def make_attribution_table(
    units: list,
    scores: list[str],
    rationales: list[str],
    out_csv: str,
    out_md: str,
    out_html: str | None = None,
    data: list[str] = (),
) -> None:
    """The attribution-quality table (csv, md, html) of every unit's scores."""
    from .attribution.quality import attribution_table, to_markdown

    table = attribution_table([tuple(u) for u in units], scores, rationales, list(data))
    Path(out_csv).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out_csv, index=False)
    Path(out_md).write_text(to_markdown(table))
    if out_html:
        from .plotting import write_html

        write_html(
            [("", table)],
            "Precision of the attributor's top-k rationale words against "
            "the known key words, beside random words.",
            out_html,
            "Attribution quality",
        )
    log.info("attribution table: %d rows", len(table))


def make_student_base(
    spec: Mapping,
    train_data: str | None,
    rationales: str | None,
    out_dir: str,
    weights: str | None = None,
) -> None:
    """A student's base folder. A scratch student's tokenizer is trained on the
    training data and rationales; a pretrained student reads neither."""
    from .students import prepare_student

    corpus = []
    if spec.get("kind") == "scratch_gpt2":
        data, rat = read_table(train_data), read_table(rationales)
        # FORMAT_WORDS holds (A)..(E); a scratch tokenizer must also learn any letter beyond,
        # or a sixth choice could never be written (added only then: the vocabulary stays)
        beyond = " ".join(f"({x})" for x in letters(int(data["choices"].map(len).max()))[5:])
        corpus = (
            list(data["question"])
            + [" ".join(c) for c in data["choices"]]
            + list(rat["rationale"])
            + [FORMAT_WORDS]
            + ([beyond] if beyond else [])
        )
    with saving(out_dir):
        prepare_student(spec, corpus, out_dir, weights=weights)


def train_run(
    base_dir: str,
    condition_train: str,
    train_spec: Mapping,
    seed: int,
    out_model: str,
    out_log: str,
    threads: int = 1,
    progress: bool = True,
    checkpoint_dir: str | None = None,
    checkpoint_every: int | None = None,
    run: Mapping | None = None,
) -> None:
    """Train one run; with ``checkpoint_dir``, save a checkpoint there every
    ``checkpoint_every`` steps (None: TrainConfig's default), resume from the one a
    killed attempt left, and delete it once the model is saved. ``run``: the run's
    identity (``runs.KEYS``), stamped on the training log."""
    from . import checkpoints
    from .students import load_student, save_trained
    from .train import TrainConfig, train

    settings = {**train_spec, "threads": threads}
    if checkpoint_every is not None:
        settings["checkpoint_every"] = checkpoint_every
    cfg = TrainConfig.from_dict(settings)
    rows = read_table(condition_train)
    model, tok = load_student(base_dir, seed)
    history = train(
        model,
        tok,
        rows["prompt"],
        rows["target"],
        cfg,
        seed,
        progress=progress,
        checkpoint_dir=checkpoint_dir,
        base=json.loads((Path(base_dir) / "student.json").read_text()),
    )
    last = history.iloc[-1]
    log.info(
        "trained %d steps: final loss %.4f, %.0f tokens/s",
        last["step"],
        last["loss"],
        last["tokens_per_s"],
    )
    with saving(out_model):
        save_trained(model, tok, base_dir, seed, out_model)
    write_table(
        runs.stamp(history, run),
        out_log,
        params={
            "training": dict(train_spec),
            "seed": seed,
            "examples": history.attrs.get("examples"),
            "truncated": history.attrs.get("truncated"),
        },
        upstream=[condition_train],
    )
    checkpoints.remove(checkpoint_dir)


@dataclass(frozen=True)
class LensJob:
    """The lens readout of a run, done in its evaluation job: the lens settings, the
    condition's training rows (the tuned lens learns from them) and where to write."""

    spec: Mapping
    condition_train: str
    out: str


def evaluate_run(
    model_dir: str,
    condition_test: str,
    eval_spec: Mapping,
    out_predictions: str,
    out_metrics: str,
    threads: int = 1,
    progress: bool = True,
    lens: LensJob | None = None,
    condition_train: str | None = None,
    run: Mapping | None = None,
) -> None:
    """Predictions and metrics of one trained run; with ``lens``, also its logit and
    tuned lens readouts (see ``lens.probe``) from the same loaded model.
    ``condition_train``: the run's training table, from whose longest target a
    rationale-first student's generation budget is derived (``max_new_tokens_rationale:
    auto``, the default). ``run``: the run's identity (``runs.KEYS``), stamped on the
    predictions, the metrics and the lens readouts.

    One job per run for both: the lens reads the predictions, so it always followed
    evaluation, and a second job paid the interpreter, the torch and transformers
    imports and the model load again (about 4 s of a 5 s job on the quickstart).
    """
    import torch
    from dataclasses import replace
    from .evaluate import EvalConfig, evaluate, metrics, rationale_budget
    from .students import load_trained
    from .train import autocast, pick_device, resolve_precision

    torch.set_num_threads(max(1, threads))
    cfg = EvalConfig.from_dict(eval_spec)
    model, tok = load_trained(model_dir, pick_device(cfg.device))
    test = read_table(condition_test)
    rationale_first = bool(test["rationale_first"].iloc[0])
    if rationale_first and cfg.max_new_tokens_rationale == "auto":
        if condition_train is None:
            raise ValueError("max_new_tokens_rationale: auto needs the run's training table")
        budget = rationale_budget(tok, read_table(condition_train)["target"])
        cfg = replace(cfg, max_new_tokens_rationale=budget)
        log.info("rationale budget: %d new tokens (longest training target plus margin)", budget)
    device = next(model.parameters()).device
    precision = resolve_precision(cfg.precision, device)
    with autocast(precision, device):
        pred = evaluate(model, tok, test, rationale_first, cfg, progress)
    pred = runs.stamp(pred, run)
    summary = {"run": runs.identity(run)} if run is not None else {}
    summary.update(metrics(pred))
    summary["precision"] = precision
    if rationale_first:
        summary["max_new_tokens_rationale"] = int(cfg.max_new_tokens_rationale)
    log.info(
        "generation accuracy %.3f, choice accuracy %.3f, parse rate %.3f (n=%d)",
        summary["gen_accuracy"],
        summary["choice_accuracy"],
        summary["gen_parse_rate"],
        summary["n"],
    )
    write_table(
        pred,
        out_predictions,
        params={
            "evaluation": dict(eval_spec),
            "max_new_tokens_rationale": summary.get("max_new_tokens_rationale"),
        },
        upstream=[condition_test] + ([condition_train] if condition_train else []),
    )
    Path(out_metrics).write_text(json.dumps(summary, indent=2) + "\n")
    if lens is not None:
        _lens_readouts(model, tok, model_dir, condition_test, out_predictions, lens, progress, run)


def lens_run(
    model_dir: str,
    condition_train: str,
    condition_test: str,
    predictions: str,
    lens_spec: Mapping,
    out: str,
    threads: int = 1,
    progress: bool = True,
    run: Mapping | None = None,
) -> None:
    """The lens readouts alone, of a run already evaluated (the workflow does both in
    ``evaluate_run``)."""
    import torch
    from .lens.run import LensConfig
    from .students import load_trained
    from .train import pick_device

    torch.set_num_threads(max(1, threads))
    model, tok = load_trained(model_dir, pick_device(LensConfig.from_dict(lens_spec).device))
    _lens_readouts(
        model,
        tok,
        model_dir,
        condition_test,
        predictions,
        LensJob(lens_spec, condition_train, out),
        progress,
        run,
    )


def _lens_readouts(
    model,
    tok,
    model_dir: str,
    condition_test: str,
    predictions: str,
    job: LensJob,
    progress: bool,
    run: Mapping | None,
) -> None:
    from .lens.run import LensConfig, lens_table
    from .train import pick_device

    cfg = LensConfig.from_dict(job.spec)
    model.to(pick_device(cfg.device))  # a no-op unless lens.device differs from evaluation's
    # the predictions as written: what a reader of the run's files sees
    table, summary = lens_table(
        model,
        tok,
        read_table(job.condition_train),
        read_table(condition_test),
        read_table(predictions),
        cfg,
        progress,
    )
    write_table(
        runs.stamp(table, run),
        job.out,
        params={"lens": dict(job.spec or {}), **summary},
        upstream=[model_dir, job.condition_train, condition_test, predictions],
    )


def make_lens_tables(
    lens_paths: list[str],
    fraction: float,
    out_curves: str,
    out_csv: str,
    out_md: str,
    condition_order: list[str] | None = None,
    out_html: str | None = None,
) -> None:
    """The lens curves and emergence tables of every run's lens readouts."""
    from .lens.summary import EMERGENCE_NOTE, summarise
    from .plotting import write_html

    found = summarise(lens_paths, fraction, out_curves, out_csv, out_md, condition_order)
    if out_html:
        write_html(
            [("", found)],
            EMERGENCE_NOTE.format(fraction=fraction),
            out_html,
            "Where the answer emerges",
        )
    log.info("lens tables: %d runs, %d (condition, lens) rows", len(lens_paths), len(found))


def make_lens_plot(
    lens_paths: list[str], out: str, title: str, condition_order: list[str] | None = None
) -> None:
    """The per-layer lens plot of one (student, teacher, dataset) unit."""
    from .lens.summary import curves, plot

    plot(curves(lens_paths), out, title, condition_order)


def make_summary(
    predictions: list[str],
    verdict_spec: Mapping,
    datasets: Mapping,
    out_md: str,
    out_csv: str,
    out_html: str | None = None,
    emergence: str | None = None,
    lens: list[str] = (),
    train_logs: list[str] = (),
    condition_tables: list[str] = (),
    rationales: list[str] = (),
    data: list[str] = (),
) -> None:
    """results/summary.md: a verdict per claim and unit, decided from the runs'
    predictions (see ``verdicts``), and what the students were trained on (``summary``)."""
    from .data.synthetic import CLAIM_NOTES
    from .summary import write_summary
    from .verdicts import Settings

    notes = (
        list(CLAIM_NOTES)
        if any((d or {}).get("source") == "synthetic" for d in datasets.values())
        else []
    )
    write_summary(
        predictions,
        Settings.from_dict(verdict_spec),
        out_md,
        out_csv,
        out_html,
        emergence=emergence,
        lens=lens,
        train_logs=train_logs,
        condition_tables=condition_tables,
        rationales=rationales,
        data=data,
        notes=notes,
    )


def make_sweeps(
    predictions: list[str],
    condition_tables: list[str],
    points: list,
    verdict_spec: Mapping,
    out: Mapping[str, str],
    plots: Mapping[tuple, str],
) -> None:
    """The sweep tables (``out``: csv, md, html) and a curve plot per unit (``plots``:
    (student, teacher, dataset) -> png), from the runs' predictions and the condition
    tables' budget shares (see ``curves``)."""
    from . import aggregate, curves
    from .plotting import write_html
    from .sweeps import Point
    from .verdicts import Settings

    settings = Settings.from_dict(verdict_spec)
    points = [p if isinstance(p, Point) else Point(**p) for p in points]
    matrices = aggregate.correctness(aggregate.per_run(predictions))
    table = curves.sweep_table(matrices, points, curves.kept_shares(condition_tables), settings)
    smallest = curves.smallest_budgets(table, points)
    Path(out["csv"]).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out["csv"], index=False)
    shown = curves.display(table)
    lines = curves.sentence(smallest)
    Path(out["md"]).write_text(
        "# Sweeps\n\n"
        + "\n".join(f"- {line}" for line in lines)
        + "\n\n"
        + markdown(
            smallest.drop(columns=["sweep"]),
            "The smallest budget that keeps "
            "the rationale's benefit, by the fixed-sequence rule below.",
        )
        + "\n"
        + markdown(shown, curves.NOTE)
    )
    write_html(
        [("Smallest budgets", smallest.drop(columns=["sweep"])), ("Points", shown)],
        "\n".join(lines + [curves.NOTE]),
        out["html"],
        "Sweeps",
    )
    for unit, png in plots.items():
        curves.plot(
            table,
            curves.reference_lines(matrices, unit, settings.metric),
            unit,
            points,
            png,
            settings,
        )
    for line in lines:
        log.info("%s", line)
