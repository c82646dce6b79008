"""What rationale-first and label-first students train on must differ only in order:
no stated answer before the reasoning unless asked, no label cut off by truncation,
no reasoning cut off at test time. Real rows: PaLM-540B CommonsenseQA rationales and
rationales in the answer-first style the published Mistral-7B ones use."""

import re

import pytest

from cotdistill import conditions as C
from cotdistill.data import load_dataset_split
from cotdistill.evaluate import rationale_budget
from cotdistill.formats import rationale_part
from cotdistill.teachers import run_teacher
from cotdistill.teachers.answers import answer_position, strip_stated_answer
from cotdistill.teachers.prompting import FewShotPrompt, builtin_prompts
from cotdistill.train import IGNORE, encode_pairs


def csqa_train(shared_data, n):
    spec = {
        "source": "jsonl",
        "subset": {"train": n, "seed": 3},
        "files": {
            "train": str(shared_data / "commonsense_qa/train_rand_split.jsonl"),
            "test": str(shared_data / "commonsense_qa/dev_rand_split.jsonl"),
        },
    }
    return load_dataset_split(spec, "train")


def palm(shared_data, data, **options):
    return run_teacher(
        {
            "backend": "precomputed",
            **options,
            "files": {"train": str(shared_data / "rationales/commonsense_qa/palm540b.train.jsonl")},
        },
        data,
        "train",
    )


def states_gold_first(target: str, label: str, choices) -> bool:
    """Whether a rationale-first target names the gold letter before its reasoning: in the
    first sentence of its reason part."""
    reason = rationale_part(target) or ""
    first = re.split(r"(?<=[.!?])\s", reason, maxsplit=1)[0]
    return bool(
        re.search(rf"\(\s*{label}\s*\)|\b{label}\b", first, re.IGNORECASE)
        and re.search(r"answer\s+is", first, re.IGNORECASE)
    )


@pytest.mark.parametrize(
    "text,stripped,where",
    [
        (
            "The answer is B because a refrigerator keeps milk cold.",
            "A refrigerator keeps milk cold.",
            "start",
        ),
        ("The answer is D or E, depending on the context.", "", "start"),
        (
            "The answer must be a place where a bum would live. Of the above choices, only a train "
            "station is a place where a bum would live. So the answer is (c) train station.",
            "The answer must be a place where a bum would live. Of the above choices, only a train "
            "station is a place where a bum would live.",
            "end",
        ),
        (
            "Poison can harm living things. A tree is a living thing. The answer is A",
            "Poison can harm living things. A tree is a living thing.",
            "end",
        ),
        (
            "Sloths are slow. Thus, the answer is (a). They hang in trees.",
            "Sloths are slow. Thus, the answer is (a). They hang in trees.",
            "middle",
        ),
        ("Plants need light.", "Plants need light.", None),
    ],
)
def test_a_stated_answer_is_removed_at_the_start_or_the_end_only(text, stripped, where):
    assert strip_stated_answer(text) == stripped
    assert answer_position(text) == where


def test_strip_answer_on_real_rationales_keeps_the_parsed_answer(shared_data):
    data = csqa_train(shared_data, 40)
    plain, stripped = palm(shared_data, data), palm(shared_data, data, strip_answer=True)
    assert (plain["rationale"].map(answer_position) == "end").mean() > 0.95
    assert stripped["answer_stripped"].mean() > 0.95
    assert not stripped["rationale"].str.contains("answer is", case=False).any()
    # the teacher's answer is parsed before the statement goes
    assert stripped["teacher_answer"].equals(plain["teacher_answer"])
    assert stripped["teacher_correct"].equals(plain["teacher_correct"])


def test_no_rationale_first_target_states_the_gold_answer_first_unless_asked(shared_data):
    """PaLM rationales reason first; answer-first rationales (the published Mistral style,
    "The answer is X because ...") state the label first unless strip_answer removes it."""
    data = csqa_train(shared_data, 40)
    rat = palm(shared_data, data)
    rows = C.build_train("cot_before", {}, data, rat)
    assert not any(
        states_gold_first(t, y, c)
        for t, y, c in zip(rows["target"], rows["label"], rows["choices"])
    )
    # the same questions, written answer first as an answer-first teacher does
    first = rat.assign(
        rationale=[
            f"The answer is {a} because {r[0].lower()}{r[1:]}"
            for a, r in zip(rat["teacher_answer"], map(strip_stated_answer, rat["rationale"]))
        ]
    )
    asked = C.build_train("cot_before", {}, data, first)
    gold_first = [
        states_gold_first(t, y, c)
        for t, y, c in zip(asked["target"], asked["label"], asked["choices"])
    ]
    assert sum(gold_first) == int(first["teacher_correct"].sum()) > 0  # the style asked for
    from cotdistill.teachers.base import finalise

    fixed = finalise(data, first[["id", "rationale"]], strip_answer=True)
    rows = C.build_train("cot_before", {}, data, fixed)
    assert not any(
        states_gold_first(t, y, c)
        for t, y, c in zip(rows["target"], rows["label"], rows["choices"])
    )
    assert fixed["teacher_answer"].equals(first["teacher_answer"])


def test_built_in_prompts_reason_first_unless_named_answer_first():
    for name in builtin_prompts():
        prompt = FewShotPrompt.load(name)
        expect = "answer_first" if name.endswith("_answer_first") else "reason_first"
        assert prompt.style == expect, name
        for ex in prompt.examples:
            assert answer_position(ex["rationale"]) == (
                "start" if expect == "answer_first" else "end"
            ), (name, ex["rationale"])


class WordTokenizer:
    """Whitespace tokens (one id per word); enough to count what truncation keeps."""

    eos_token_id = 0

    def __init__(self):
        self.vocab = {"<eos>": 0}

    def __call__(self, texts, add_special_tokens=False):
        one = isinstance(texts, str)
        ids = [
            [self.vocab.setdefault(w, len(self.vocab)) for w in t.split()]
            for t in ([texts] if one else texts)
        ]
        return {"input_ids": ids[0] if one else ids}

    def decode(self, ids):
        words = {i: w for w, i in self.vocab.items()}
        return " ".join(words[i] for i in ids)


def test_truncation_keeps_the_label_and_eos_of_a_rationale_first_target(shared_data):
    """Before: (prompt + target)[:max_length] cut 'Answer: y' off an over-long cot_before
    target, while cot_after kept it."""
    data = csqa_train(shared_data, 8)
    rat = palm(shared_data, data)
    tok = WordTokenizer()
    for name in ("cot_before", "cot_after"):
        rows = C.build_train(name, {}, data, rat)
        prompt_len = max(len(p.split()) for p in rows["prompt"])
        max_length = prompt_len + 12  # far shorter than any PaLM rationale
        ids, labels, truncated = encode_pairs(
            tok, rows["prompt"], rows["target"], max_length, "target"
        )
        assert truncated == len(rows)
        for x, lab, y in zip(ids, labels, rows["label"]):
            assert len(x) <= max_length and len(x) == len(lab)
            learnt = tok.decode([t for t in lab if t != IGNORE])
            assert learnt.endswith("<eos>") and f"Answer: {y}" in learnt, (name, learnt)
            if name == "cot_before":
                assert learnt.startswith("Reason:") and learnt.endswith(f"Answer: {y} <eos>")
    # a pair that fits is untouched
    ids, labels, truncated = encode_pairs(
        tok, ["Question: q"], ["Reason: r\nAnswer: A"], 50, "target"
    )
    assert truncated == 0 and tok.decode(ids[0]) == "Question: q Reason: r Answer: A <eos>"


def test_the_rationale_budget_covers_the_longest_training_target():
    tok = WordTokenizer()
    targets = ["Reason: " + "w " * 30 + "\nAnswer: A", "Reason: short\nAnswer: B"]
    longest = 30 + 3
    assert rationale_budget(tok, targets) == longest + 8  # at least 8 tokens of margin
    targets = ["Reason: " + "w " * 200 + "\nAnswer: A"]
    assert rationale_budget(tok, targets) == 203 + 20  # or 10%
