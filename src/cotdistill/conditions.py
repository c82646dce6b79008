"""Experimental conditions: how the label and the rationale make a training target.

A condition is a pure function ``(example, rng, **params) -> target`` registered
under a name. The prompt is shared by all conditions (so test prompts are
identical across conditions). Adding a condition is one function plus one
``@register`` line; no workflow rule changes, because rules only see names.

Conditions that select or mask parts of a rationale work on *units* at a level
they name with ``unit``: ``word`` (whitespace words, the default) or ``token``
(the attributor's tokens). One contract says whether a condition needs a
scores table (:mod:`cotdistill.attribution.scores`): ``Condition.needs_scores``,
a function of its params. Key tokens need scores; random tokens and UNK need
them only at the token level (to know the tokens). ``scores:`` names the
attribution entry that provides them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import pandas as pd

from .attribution.scores import Units, budget, scores_by_id, top_units, units_from_scores, words_of
from .data.schema import letters
from .errors import ConfigError, InputError
from .formats import after, answer, before, rationale_part, student_prompt

PLACEHOLDER = "_"
# params that say which units a condition sees, or how to build its table; the builder
# consumes them
UNIT_PARAMS = ("scores", "unit", "word_reduce")
BUILDER_PARAMS = UNIT_PARAMS + ("allow_full_budget",)


@dataclass(frozen=True)
class Example:
    """What a condition may look at for one training question."""

    id: str
    question: str
    choices: Sequence[str]
    label: str
    rationale: str
    units: Units | None = None  # the rationale's units at the condition's level
    other_rationale: str | None = None  # a different example's rationale

    @property
    def words(self) -> list[str]:
        """The rationale's whitespace words."""
        return self.rationale.split()


def _always(params: Mapping[str, Any]) -> bool:
    return True


def _never(params: Mapping[str, Any]) -> bool:
    return False


def _at_token_level(params: Mapping[str, Any]) -> bool:
    return params.get("unit") == "token"


@dataclass(frozen=True)
class Condition:
    """A registered condition: its target function, whether students reason first,
    its default params, whether it needs scores and whether it draws at random."""

    name: str
    target: Callable[..., str]
    rationale_first: bool  # the student writes a rationale before the label at test time
    defaults: Mapping[str, Any] = field(default_factory=dict)
    needs_scores: Callable[[Mapping[str, Any]], bool] = _never
    # its targets are a random draw (shuffles, random words): every training seed gets
    # its own draw, so seed-to-seed variance includes "which random words"
    draws: bool = False


REGISTRY: dict[str, Condition] = {}


def register(
    name: str,
    *,
    rationale_first: bool = False,
    draws: bool = False,
    needs_scores: Callable[[Mapping[str, Any]], bool] = _never,
    **defaults: Any,
):
    """Register the decorated target function as condition ``name`` with its defaults."""

    def deco(fn: Callable[..., str]) -> Callable[..., str]:
        REGISTRY[name] = Condition(name, fn, rationale_first, defaults, needs_scores, draws)
        return fn

    return deco


def shuffled_words(words: Sequence[str], rng: random.Random) -> str:
    """The words in a random order (a bag of the same words)."""
    words = list(words)
    rng.shuffle(words)
    return " ".join(words)


def key_units(ex: Example, k: int | None, fraction: float | None, rank_by: str) -> list[int]:
    """The example's top-scoring units within the budget, in original order."""
    return top_units(ex.units.scores, budget(len(ex.units), k, fraction), rank_by)


def random_units(
    ex: Example, rng: random.Random, k: int | None, fraction: float | None
) -> list[int]:
    """Sorted indices of a random budget of the example's units."""
    n = len(ex.units)
    return sorted(rng.sample(range(n), budget(n, k, fraction)))


# ---- the registered conditions ------------------------------------------------

# k units or a fraction of them (neither: scores.DEFAULT_K); a budget that keeps every unit
# of every rationale trains on cot_after's targets, which stops the job unless allowed
BUDGET = {"k": None, "fraction": None, "allow_full_budget": False}
SCORED = {"scores": None, "unit": "word", "word_reduce": "sum", "rank_by": "score", **BUDGET}


@register("label_only")
def label_only(ex: Example, rng: random.Random) -> str:
    """The label alone: ``Answer: B``."""
    return answer(ex.label)


@register("cot_before", rationale_first=True)
def cot_before(ex: Example, rng: random.Random) -> str:
    """The rationale, then the label."""
    return before(ex.label, ex.rationale)


@register("cot_after")
def cot_after(ex: Example, rng: random.Random) -> str:
    """The label, then the rationale."""
    return after(ex.label, ex.rationale)


@register("shuffled_before", rationale_first=True, draws=True)
def shuffled_before(ex: Example, rng: random.Random) -> str:
    """The rationale's words shuffled, then the label."""
    return before(ex.label, shuffled_words(ex.words, rng))


@register("shuffled_after", draws=True)
def shuffled_after(ex: Example, rng: random.Random) -> str:
    """The label, then the rationale's words shuffled."""
    return after(ex.label, shuffled_words(ex.words, rng))


@register("keytokens_after", needs_scores=_always, **SCORED)
def keytokens_after(ex: Example, rng: random.Random, k=None, fraction=None, rank_by="score") -> str:
    """The top units by attribution score, kept in their original order."""
    return after(ex.label, ex.units.render(key_units(ex, k, fraction, rank_by)))


@register("keytokens_before", rationale_first=True, needs_scores=_always, **SCORED)
def keytokens_before(
    ex: Example, rng: random.Random, k=None, fraction=None, rank_by="score"
) -> str:
    """The key units before the label: the student must write them at test time."""
    return before(ex.label, ex.units.render(key_units(ex, k, fraction, rank_by)))


@register(
    "randomtokens_after",
    draws=True,
    needs_scores=_at_token_level,
    scores=None,
    unit="word",
    **BUDGET,
)
def randomtokens_after(ex: Example, rng: random.Random, k=None, fraction=None) -> str:
    """Random units in original order: the key-token budget without the selection."""
    return after(ex.label, ex.units.render(random_units(ex, rng, k, fraction)))


@register("masked_after", needs_scores=_always, placeholder=PLACEHOLDER, **SCORED)
def masked_after(
    ex: Example, rng: random.Random, k=None, fraction=None, rank_by="score", placeholder=PLACEHOLDER
) -> str:
    """Non-key units replaced by a placeholder: positions kept, content removed."""
    keep = set(key_units(ex, k, fraction, rank_by))
    n = len(ex.units)
    return after(
        ex.label, ex.units.render(range(n), {i: placeholder for i in range(n) if i not in keep})
    )


@register(
    "unk_after", needs_scores=_at_token_level, scores=None, unit="word", placeholder=PLACEHOLDER
)
def unk_after(ex: Example, rng: random.Random, placeholder=PLACEHOLDER) -> str:
    """Every unit replaced by the placeholder: only the rationale's length survives."""
    n = len(ex.units)
    return after(ex.label, ex.units.render(range(n), {i: placeholder for i in range(n)}))


@register("answer_text_after")
def answer_text_after(ex: Example, rng: random.Random) -> str:
    """The gold choice's text alone after the label: what key tokens would be if they
    only restated the answer (a control for the key-token claim)."""
    return after(ex.label, ex.choices[letters(len(ex.choices)).index(ex.label)])


@register("filler_after", k=5, filler="...")
def filler_after(ex: Example, rng: random.Random, k: int = 5, filler: str = "...") -> str:
    """k filler words after the label: extra target length with no content."""
    return after(ex.label, " ".join([filler] * k))


@register("other_rationale_after", draws=True)
def other_rationale_after(ex: Example, rng: random.Random) -> str:
    """Another example's rationale: is the content example-specific?"""
    return after(ex.label, ex.other_rationale or "")


# ---- building a condition's tables ---------------------------------------------


def _param_problems(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(problem, fix) pairs for the shared unit and budget params."""
    problems = []
    if params.get("unit", "word") not in ("word", "token"):
        problems.append((f"unit '{params['unit']}' is unknown", "set unit: word or unit: token"))
    if params.get("rank_by", "score") not in ("score", "abs"):
        problems.append(
            (
                f"rank_by '{params['rank_by']}' is unknown",
                "set rank_by: score (most positive) or abs (largest either way)",
            )
        )
    if params.get("word_reduce", "sum") not in ("sum", "max", "mean"):
        problems.append(
            (
                f"word_reduce '{params['word_reduce']}' is unknown",
                "set word_reduce: sum, max or mean",
            )
        )
    k, fraction = params.get("k"), params.get("fraction")
    if k is not None and fraction is not None:
        problems.append(("both k and fraction are set", "give the budget as k or as fraction"))
    if k is not None and (not isinstance(k, int) or k < 1):
        problems.append((f"k={k!r} is not a positive integer", "set k to 1 or more"))
    if fraction is not None and not (isinstance(fraction, (int, float)) and 0 < fraction <= 1):
        problems.append((f"fraction={fraction!r} is outside (0, 1]", "set fraction, e.g. 0.2"))
    return problems


def resolve(name: str, spec: Mapping[str, Any] | None) -> tuple[Condition, dict]:
    """The registered condition and its params for config entry ``name: spec``."""
    spec = dict(spec or {})
    fn_name = spec.pop("function", name)
    spec.pop("seed", None)
    if fn_name not in REGISTRY:
        raise ConfigError(
            f"conditions.{name}",
            f"'{fn_name}' is not a registered condition",
            f"set 'function:' to one of {sorted(REGISTRY)}",
        )
    cond = REGISTRY[fn_name]
    unknown = set(spec) - set(cond.defaults)
    if unknown:
        raise ConfigError(
            f"conditions.{name}",
            f"unknown parameter(s) {sorted(unknown)}",
            f"'{fn_name}' takes {sorted(cond.defaults) or 'no parameters'}",
        )
    params = {**cond.defaults, **spec}
    for problem, fix in _param_problems(params):
        raise ConfigError(f"conditions.{name}", problem, fix)
    return cond, params


def draws(name: str, spec: Mapping[str, Any] | None) -> bool:
    """Whether condition ``name: spec`` draws at random (a draw per training seed)."""
    return resolve(name, spec)[0].draws


def needs_scores(name: str, spec: Mapping[str, Any] | None) -> bool:
    """Whether condition ``name: spec`` reads a scores table (the DAG's one contract)."""
    cond, params = resolve(name, spec)
    return cond.needs_scores(params)


def _other_rationales(ids: Sequence[str], rationales: Sequence[str], seed: int) -> list[str]:
    """A seeded derangement: every example gets a rationale of a different example."""
    n = len(ids)
    if n < 2:
        return list(rationales)
    order = list(range(n))
    random.Random(f"other-{seed}").shuffle(order)
    shift = {order[i]: order[(i + 1) % n] for i in range(n)}  # one cycle: no fixed points
    return [rationales[shift[i]] for i in range(n)]


def _units(rationale: str, rows: pd.DataFrame | None, params: Mapping[str, Any]) -> Units:
    if rows is None:
        return words_of(rationale)
    return units_from_scores(
        rationale, rows, params.get("unit", "word"), params.get("word_reduce", "sum")
    )


def build_train(
    name: str,
    spec: Mapping[str, Any] | None,
    data: pd.DataFrame,
    rationales: pd.DataFrame,
    only_correct: bool = False,
    scores: pd.DataFrame | None = None,
    scores_path: str = "scores",
    rationales_path: str = "rationales",
    draw: int = 0,
) -> pd.DataFrame:
    """Training rows ``id, prompt, target, label`` of one condition.

    Every condition trains on the same ids: those with a rationale (and, with
    ``only_correct``, a teacher-correct one), so conditions differ in the target only.
    ``scores`` is the scores table of the source the condition names, when it needs one.
    ``draw``: which random draw (the training seed) a condition that draws makes; its
    random generator is seeded by the config's ``seed`` plus ``draw``.
    """
    cond, params = resolve(name, spec)
    if cond.needs_scores(params) and scores is None:
        raise ConfigError(
            f"conditions.{name}",
            "needs a scores table and got none",
            "name an attribution entry with 'scores:'",
        )
    fn_params = {k: v for k, v in params.items() if k not in BUILDER_PARAMS}
    by_id = scores_by_id(scores) if scores is not None and cond.needs_scores(params) else None
    seed = int((spec or {}).get("seed", 0)) + (int(draw) if cond.draws else 0)
    merged = data.merge(rationales, on="id", how="inner", validate="one_to_one")
    with_rationale = len(merged)
    if only_correct:
        merged = merged[merged["teacher_correct"].astype(bool)]
    if merged.empty:  # before any training job starts, not as an IndexError inside one
        why = f"{with_rationale} of {len(data)} training examples have a rationale" + (
            ", and the teacher is right on none of them (only_correct: true)"
            if only_correct and with_rationale
            else ""
        )
        raise InputError(
            rationales_path,
            None,
            f"condition {name} has 0 training rows: {why}",
            "set the teacher's only_correct: false, or check that the rationale "
            "ids match the dataset's"
            if only_correct
            else "check that the rationale ids match the dataset's",
        )
    others = _other_rationales(list(merged["id"]), list(merged["rationale"]), seed)
    rows, sizes = [], []
    for rec, other in zip(merged.to_dict("records"), others):
        if by_id is not None and rec["id"] not in by_id:
            raise InputError(
                scores_path,
                None,
                f"no scores for training example {rec['id']}",
                "rerun the attribution rule for this teacher and dataset",
            )
        units = _units(rec["rationale"], None if by_id is None else by_id[rec["id"]], params)
        ex = Example(
            id=rec["id"],
            question=rec["question"],
            choices=list(rec["choices"]),
            label=rec["label"],
            rationale=rec["rationale"],
            units=units,
            other_rationale=other,
        )
        rng = random.Random(f"{seed}-{name}-{ex.id}")  # per example: stable under subsetting
        rows.append(
            {
                "id": ex.id,
                "prompt": student_prompt(ex.question, ex.choices),
                "target": cond.target(ex, rng, **fn_params),
                "label": ex.label,
                "choices": list(ex.choices),
            }
        )
        sizes.append(len(units))
    table = pd.DataFrame(rows, columns=["id", "prompt", "target", "label", "choices"])
    if has_budget(cond):
        table.attrs["budget"] = kept_share(sizes, params)
        _refuse_full_budget(name, params, table.attrs["budget"])
    return table


def has_budget(cond: Condition) -> bool:
    """Does the condition keep a budget of the rationale's units (k or fraction)?"""
    return "k" in cond.defaults and "fraction" in cond.defaults


def kept_share(sizes: Sequence[int], params: Mapping[str, Any]) -> dict:
    """What a budget keeps of the rationales: the mean share of their units, and how
    many rows keep every unit (their target is the whole rationale)."""
    kept = [budget(n, params.get("k"), params.get("fraction")) for n in sizes]
    shares = [k / n for k, n in zip(kept, sizes) if n]
    return {
        "unit": params.get("unit", "word"),
        "rows": len(sizes),
        "kept_share": sum(shares) / len(shares) if shares else 0.0,
        "rows_kept_whole": sum(k >= n for k, n in zip(kept, sizes)),
        "median_units": sorted(sizes)[len(sizes) // 2] if sizes else 0,
    }


def full_budget_problems(conditions: Mapping[str, Any], rationales: Sequence[str]) -> list[str]:
    """Before any job: word-level budget conditions that would keep every word of every
    one of these rationales (each as "'conditions.NAME': problem. Fix: fix")."""
    sizes = [len(str(r).split()) for r in rationales]
    problems = []
    for name, spec in (conditions or {}).items():
        try:
            cond, params = resolve(name, spec)
        except ConfigError:
            continue  # named by the config check
        if has_budget(cond) and params.get("unit", "word") == "word":
            try:
                _refuse_full_budget(name, params, kept_share(sizes, params))
            except ConfigError as e:
                problems.append(f"'{e.key}': {e.problem}. Fix: {e.fix}")
    return problems


def _refuse_full_budget(name: str, params: Mapping[str, Any], kept: Mapping[str, Any]) -> None:
    if (
        kept["rows"]
        and kept["rows_kept_whole"] == kept["rows"]
        and not params.get("allow_full_budget")
    ):
        size = (
            f"k={params['k']}"
            if params.get("k") is not None
            else f"fraction={params.get('fraction')}"
        )
        raise ConfigError(
            f"conditions.{name}",
            f"{size} keeps every {kept['unit']} of all {kept['rows']} rationales "
            f"(median {kept['median_units']} {kept['unit']}s), so its targets are "
            "cot_after's and it measures nothing of its own",
            "set a budget below the rationales' length (k: 5, or fraction: 0.2), "
            "or allow_full_budget: true to train on it anyway",
        )


def answer_share(rows: pd.DataFrame) -> float | None:
    """Share of training rows whose rationale part restates the answer (the gold letter
    or a content word of the gold choice); None when the targets hold no rationale."""
    from .answer_overlap import restates_answer

    parts = [rationale_part(t) for t in rows["target"]]
    if all(p is None for p in parts):
        return None
    hits = [
        restates_answer((p or "").split(), y, list(c))
        for p, y, c in zip(parts, rows["label"], rows["choices"])
    ]
    return sum(hits) / len(hits) if hits else None


def build_test(data: pd.DataFrame) -> pd.DataFrame:
    """Evaluation rows ``id, prompt, label, choices``: the same for every condition."""
    return pd.DataFrame(
        {
            "id": data["id"],
            "prompt": [student_prompt(q, c) for q, c in zip(data["question"], data["choices"])],
            "label": data["label"],
            "choices": data["choices"],
        }
    )
