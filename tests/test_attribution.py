"""Integrated gradients over rationale tokens: layout, batching, completeness, baselines."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

from cotdistill.attribution.attributor import IGConfig, ig_scores, resolve_baseline
from cotdistill.attribution.ig import LabelLogProb, integrated_gradients
from cotdistill.attribution.layout import lay_out
from cotdistill.attribution.quality import precision_at_k
from cotdistill.attribution.scores import known_key_word_scores, word_spans
from cotdistill.formats import student_prompt
from cotdistill.data import load_dataset_split
from cotdistill.data.synthetic import generate_split
from cotdistill.errors import ConfigError
from cotdistill.stages import FORMAT_WORDS
from cotdistill.students import load_student, prepare_student
from cotdistill.teachers import run_teacher

ARCH = {"n_layer": 2, "n_head": 2, "n_embd": 32}


@pytest.fixture(scope="module")
def csqa(shared_data):
    """12 real CommonsenseQA training questions with their PaLM rationales (lengths vary)."""
    data = load_dataset_split(
        {
            "source": "jsonl",
            "subset": {"train": 12, "seed": 0},
            "files": {
                "train": str(shared_data / "commonsense_qa/train_rand_split.jsonl"),
                "test": str(shared_data / "commonsense_qa/dev_rand_split.jsonl"),
            },
        },
        "train",
    )
    rat = run_teacher(
        {
            "backend": "precomputed",
            "files": {"train": str(shared_data / "rationales/commonsense_qa/palm540b.train.jsonl")},
        },
        data,
        "train",
    )
    return data.merge(rat, on="id")


@pytest.fixture(scope="module")
def scratch(csqa, tmp_path_factory):
    """An untrained scratch GPT-2 whose word tokenizer knows the CSQA rows."""
    base = tmp_path_factory.mktemp("scratch")
    corpus = (
        list(csqa["question"])
        + [" ".join(c) for c in csqa["choices"]]
        + list(csqa["rationale"])
        + [FORMAT_WORDS, "zab-kol"]
    )
    prepare_student({"kind": "scratch_gpt2", "architecture": ARCH}, corpus, base)
    return load_student(base, 0)


def layouts_of(tok, rows):
    return [
        lay_out(tok, r.id, student_prompt(r.question, list(r.choices)), r.rationale, r.label)
        for r in rows.itertuples()
    ]


def test_layout_marks_rationale_and_label_positions_without_special_tokens(csqa, scratch):
    _, tok = scratch
    r = csqa.iloc[0]
    lay = layouts_of(tok, csqa.iloc[:1])[0]
    prompt = student_prompt(r.question, list(r.choices))
    target = f"Reason: {r.rationale}\nAnswer: {r.label}"
    assert lay.ids == (
        tok(prompt, add_special_tokens=False)["input_ids"]
        + tok(target, add_special_tokens=False)["input_ids"]
    )  # as training
    assert tok.bos_token is None  # this tokenizer has no BOS, and none is needed
    # the rationale tokens cover every non-space character of the rationale, in order
    covered = "".join(r.rationale[s:e] for s, e in lay.spans)
    assert covered == "".join(r.rationale.split())
    words = word_spans(r.rationale)  # each token lies inside the word it is assigned to
    assert all(words[w][0] <= s and e <= words[w][1] for (s, e), w in zip(lay.spans, lay.word_idx))
    assert len(set(lay.word_idx)) == len(words) > len(lay.spans) / 2
    assert tok.decode([lay.ids[p] for p in lay.label_pos]).strip() == r.label
    assert lay.label_pos == [len(lay.ids) - 1] and max(lay.rationale_pos) < lay.label_pos[0]


def test_a_label_of_several_tokens_sums_their_log_probabilities(csqa, scratch):
    model, tok = scratch
    lay = lay_out(tok, "x", "Question: q\n", "some reason", "zab-kol")
    assert len(lay.label_pos) == 3  # zab, -, kol
    f = LabelLogProb(model.eval())
    ids = torch.tensor([lay.ids])
    from cotdistill.attribution.ig import _batch_tensors

    _, _, extra = _batch_tensors([lay], tok.pad_token_id, tok.pad_token_id, "cpu")
    with torch.no_grad():
        got = float(f(ids, *extra)[0])
        logp = torch.log_softmax(model(input_ids=ids).logits[0].float(), -1)
    want = sum(float(logp[p - 1, lay.ids[p]]) for p in lay.label_pos)
    assert got == pytest.approx(want, abs=1e-5)


def test_batched_ig_equals_captum_one_example_at_a_time(csqa, scratch):
    """Examples of different lengths share a padded batch; scores must not change."""
    model, tok = scratch
    lays = layouts_of(tok, csqa)
    assert len({len(x.ids) for x in lays}) > 3  # padding is exercised
    batched = integrated_gradients(
        model,
        lays,
        tok.pad_token_id,
        tok.pad_token_id,
        n_steps=24,
        internal_batch_size=24 * 6,
        progress=False,
        examples_per_call=6,
    )  # the GPU path, forced on the CPU
    for lay, b in zip(lays, batched):
        (one,) = integrated_gradients(
            model,
            [lay],
            tok.pad_token_id,
            tok.pad_token_id,
            n_steps=24,
            internal_batch_size=24,
            progress=False,
        )
        a, o = np.array(b.scores), np.array(one.scores)
        assert np.abs(a - o).max() <= 1e-3 * np.abs(o).max()
        assert b.f_input == pytest.approx(one.f_input, abs=1e-4)


def test_completeness_on_the_tiny_student(csqa, scratch):
    model, tok = scratch
    res = integrated_gradients(
        model, layouts_of(tok, csqa), tok.pad_token_id, tok.pad_token_id, n_steps=32, progress=False
    )
    for r in res:
        gap = r.f_input - r.f_baseline
        assert sum(r.scores) - gap == pytest.approx(r.delta, abs=1e-5)
        assert abs(r.delta) <= 1e-2 * abs(gap) + 1e-5


def test_baseline_token_is_chosen_on_purpose(scratch):
    _, tok = scratch
    assert resolve_baseline(tok) == (tok.pad_token_id, "[PAD]")  # a dedicated pad token
    assert resolve_baseline(tok, "eos") == (tok.eos_token_id, "[EOS]")
    assert resolve_baseline(tok, "Reason")[1] == "Reason"
    with pytest.raises(ConfigError, match="not one"):
        resolve_baseline(tok, "two words")
    with pytest.raises(ConfigError, match="no bos token"):
        resolve_baseline(tok, "bos")


def test_scores_table_has_one_row_per_rationale_token(csqa, scratch):
    model, tok = scratch
    table, summary = ig_scores(model, tok, csqa, IGConfig(n_steps=8), progress=False)
    assert summary["baseline_token"] == "[PAD]" and summary["examples"] == len(csqa)
    for rid, g in table.groupby("id"):
        rationale = csqa.set_index("id").loc[rid, "rationale"]
        assert g["position"].tolist() == list(range(len(g)))
        assert (g["token"] == [rationale[s:e] for s, e in zip(g["start"], g["end"])]).all()
        assert g["word_idx"].max() == len(rationale.split()) - 1
        assert g["score"].sum() == pytest.approx(
            g["f_input"].iloc[0] - g["f_baseline"].iloc[0] + g["delta"].iloc[0], abs=1e-4
        )


def test_precision_at_k_of_known_key_words_is_perfect_and_random_is_not():
    data = generate_split("train", n_entities=8, max_value=8)
    rat = run_teacher({"backend": "rule_based"}, data, "train")
    table = precision_at_k(known_key_word_scores(rat), rat).set_index("k")
    assert (table["precision_ig"] == 1.0).all()
    assert table.loc["|K|", "precision_random_expected"] == pytest.approx(4 / 20)
    assert abs(table.loc["|K|", "precision_random"] - 0.2) < 0.05


def test_ig_completeness_error_falls_with_n_steps_on_smollm2(smollm2_hf, csqa):
    """Completeness on a real model (SmolLM2-135M-Instruct) and a real CommonsenseQA
    example: sum(attributions) = F(input) - F(baseline) up to captum's delta, and the
    relative error shrinks as n_steps grows. Tolerance at 128 steps: 1% of |F(x) - F(x')|."""
    from cotdistill.models import load_causal_lm
    from cotdistill.students import load_tokenizer

    torch.set_num_threads(2)
    model, tok = load_causal_lm(str(smollm2_hf), "float32"), load_tokenizer(smollm2_hf)
    baseline_id, _ = resolve_baseline(tok)
    assert baseline_id != 0 or tok.convert_ids_to_tokens(0) == tok.eos_token
    row = csqa.loc[csqa["rationale"].str.len().idxmin()]  # the shortest rationale: keeps it fast
    (lay,) = layouts_of(tok, pd.DataFrame([row]))
    errors = []
    for n_steps in (8, 32, 128):
        (r,) = integrated_gradients(
            model,
            [lay],
            baseline_id,
            tok.pad_token_id,
            n_steps=n_steps,
            internal_batch_size=64,
            progress=False,
        )
        gap = r.f_input - r.f_baseline
        assert sum(r.scores) - gap == pytest.approx(r.delta, abs=1e-4)
        errors.append(abs(r.delta) / abs(gap))
    assert errors[0] > errors[1] > errors[2] or errors[2] < 1e-3, errors
    assert errors[2] < 1e-2, errors
    assert not math.isnan(errors[2])


def test_the_shared_prefix_cache_changes_nothing_but_the_speed(csqa, scratch):
    """Prompt keys and values computed once (left-padded across a batch) give the same
    scores as running every step over the whole sequence."""
    model, tok = scratch
    lays = layouts_of(tok, csqa)
    kw = dict(n_steps=16, internal_batch_size=16 * 6, progress=False, examples_per_call=6)
    shared = integrated_gradients(model, lays, tok.pad_token_id, tok.pad_token_id, **kw)
    whole = integrated_gradients(
        model, lays, tok.pad_token_id, tok.pad_token_id, share_prefix=False, **kw
    )
    for a, b in zip(shared, whole):
        a_s, b_s = np.array(a.scores), np.array(b.scores)
        assert np.abs(a_s - b_s).max() <= 1e-3 * np.abs(b_s).max()
        assert a.f_input == pytest.approx(b.f_input, abs=1e-4)
        assert a.f_baseline == pytest.approx(b.f_baseline, abs=1e-4)
