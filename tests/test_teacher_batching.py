"""Batched teacher generation with a shared few-shot prefix equals one prompt at a time."""

import pytest
import torch
import transformers as tr

from cotdistill.students import train_word_tokenizer
from cotdistill.teachers.batching import generate_batched, plan_batches, shared_prefix_length

from test_lens import TINY
from test_real_models import csqa, teacher_spec

FEW_SHOT = (
    "Answer the question . Question : is zab heavier than kol ? Answer : yes . "
    "Question : is fog taller than sam ? Answer : no . "
)
QUESTIONS = [
    "Question : is mip lighter than dax ?",
    "Question : is pog taller than lun or not ?",
    "Question : is kol heavier ?",
    "Question : is sam shorter than fog and zab ?",
    "Question : is dax lighter than pog ?",
]


def test_shared_prefix_leaves_every_prompt_a_token_of_its_own():
    assert shared_prefix_length([[1, 2, 3, 4], [1, 2, 3, 5], [1, 2, 3, 4, 6]]) == 3
    assert shared_prefix_length([[1, 2], [1, 2, 3]]) == 1  # [1, 2] keeps one own token
    assert shared_prefix_length([[7, 1], [8, 1]]) == 0
    assert shared_prefix_length([]) == 0


def test_batches_are_longest_first_and_stay_within_the_budget():
    lengths = [5, 30, 12, 29, 6, 11]
    batches = plan_batches(lengths, max_rows=3, max_tokens=100, new_tokens=10)
    assert sorted(i for b in batches for i in b) == list(range(6))
    assert batches[0] == [1, 3]  # 3 x (30 + 10) > 100
    for b in batches:
        assert len(b) <= 3
        assert len(b) == 1 or len(b) * (lengths[b[0]] + 10) <= 100
        assert lengths[b[0]] == max(lengths[i] for i in b)


def one_at_a_time(model, tok, token_lists, max_new_tokens):
    out = []
    for ids in token_lists:
        seq = model.generate(
            torch.tensor([ids]),
            attention_mask=torch.ones(1, len(ids), dtype=torch.long),
            max_new_tokens=max_new_tokens,
            do_sample=False,
            pad_token_id=tok.pad_token_id,
        )
        out.append(tok.decode(seq[0, len(ids) :], skip_special_tokens=True))
    return out


@pytest.mark.parametrize("arch", ["gpt2", "mistral", "gemma2"])
def test_shared_prefix_batches_generate_what_one_prompt_at_a_time_does(arch):
    tok = train_word_tokenizer([FEW_SHOT] + QUESTIONS, 200)
    config = TINY[arch]()
    config.vocab_size = len(tok)
    config.final_logit_softcapping = None  # the test config's cap of 2.0 flattens the output
    if arch == "mistral":  # with the default init it writes one token whatever the prompt
        config.initializer_range = 0.5
    torch.manual_seed(0)
    model = tr.AutoModelForCausalLM.from_config(config).eval()
    token_lists = tok([FEW_SHOT + q for q in QUESTIONS], add_special_tokens=False)["input_ids"]
    assert shared_prefix_length(token_lists) >= 20  # the few-shot part is really shared
    expect = one_at_a_time(model, tok, token_lists, 12)
    kwargs = {"max_new_tokens": 12, "do_sample": False}
    batches = []
    got = generate_batched(
        model, tok, token_lists, kwargs, max_rows=2, max_tokens=10_000, on_batch=batches.append
    )
    assert got == expect and batches == [2, 2, 1]
    assert (
        generate_batched(model, tok, token_lists, kwargs, 8, 10_000, share_prefix=False) == expect
    )
    assert len(set(expect)) > 1  # different prompts, different continuations
    # a stop string that ends some rows early: they leave the batch, the others go on
    # (greedy: a stopped row is its unstopped text up to and including the stop word;
    # HF's own stop strings cannot read this word-level tokenizer's vocabulary)
    words = [e.split() for e in expect]

    def first(w, x):
        return w.index(x) if x in w else len(w)

    stop = [next(x for x in words[0] if len({first(w, x) for w in words}) > 1)]
    expect = [
        " ".join(w[: w.index(stop[0]) + 1] if stop[0] in w else w)
        for w in (e.split() for e in expect)
    ]
    lengths = {len(e.split()) for e in expect}
    assert len(lengths) > 1, expect  # rows really end at different steps
    got = generate_batched(
        model,
        tok,
        token_lists,
        {**kwargs, "stop_strings": stop, "tokenizer": tok},
        max_rows=8,
        max_tokens=10_000,
    )
    assert got == expect


def test_smollm2_teacher_batches_equal_one_prompt_at_a_time(smollm2_hf, shared_data):
    """The real teacher: chat template, prefill, stop strings, rows finishing early."""
    from cotdistill.teachers.hf import HFTeacher

    spec = {k: v for k, v in teacher_spec(smollm2_hf).items() if k not in ("backend", "shard_size")}
    teacher = HFTeacher(**{**spec, "batch_size": 3, "max_new_tokens": 20, "device_map": None})
    data = csqa(shared_data, "train", 5)
    prompts = [teacher.render(q, list(c)) for q, c in zip(data["question"], data["choices"])]
    model, tok = teacher.load()
    expect = []
    for p in prompts:
        enc = tok(p, return_tensors="pt", add_special_tokens=False)
        seq = model.generate(
            **enc,
            max_new_tokens=20,
            do_sample=False,
            temperature=None,
            top_p=None,
            top_k=None,
            pad_token_id=tok.pad_token_id,
            stop_strings=teacher.gen["stop"],
            tokenizer=tok,
        )
        expect.append(tok.decode(seq[0, enc["input_ids"].shape[1] :], skip_special_tokens=True))
    assert teacher.generate_texts(prompts) == expect
