import pandas as pd
import pytest
import torch

from cotdistill import conditions as C
from cotdistill.aggregate import compare, correctness, per_run, summarise, to_markdown
from cotdistill.data.synthetic import generate_split
from cotdistill.evaluate import (
    EvalConfig,
    choice_logprobs,
    choice_logprobs_per_letter,
    continuation_logprobs,
    evaluate,
    parse_label,
)
from cotdistill.runs import stamp
from cotdistill.stages import FORMAT_WORDS
from cotdistill.students import load_student, prepare_student
from cotdistill.tables import read_provenance, write_table
from cotdistill.teachers import run_teacher
from cotdistill.train import IGNORE, TrainConfig, encode_pairs, train

ARCH = {
    "n_layer": 1,
    "n_head": 2,
    "n_embd": 32,
    "resid_pdrop": 0.0,
    "embd_pdrop": 0.0,
    "attn_pdrop": 0.0,
}


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    data = generate_split("train", n_entities=8, max_value=8)
    rat = run_teacher({"backend": "rule_based"}, data, "train")
    base = tmp_path_factory.mktemp("student")
    corpus = list(data["question"]) + list(rat["rationale"]) + [FORMAT_WORDS]
    prepare_student({"kind": "scratch_gpt2", "architecture": ARCH}, corpus, base)
    rows = C.build_train("cot_after", {}, data, rat)
    test = C.build_test(generate_split("test", n_entities=8, max_value=8))
    return base, rows, test


def test_prompt_tokens_are_masked_only_when_asked(setup):
    base, rows, _ = setup
    _, tok = load_student(base, 0)
    p_len = len(tok(rows["prompt"][0], add_special_tokens=False)["input_ids"])
    ids, labels, _ = encode_pairs(tok, rows["prompt"][:1], rows["target"][:1], 256, "target")
    assert labels[0][:p_len] == [IGNORE] * p_len and IGNORE not in labels[0][p_len:]
    assert labels[0][-1] == tok.eos_token_id and len(ids[0]) == len(labels[0])
    _, labels_all, _ = encode_pairs(tok, rows["prompt"][:1], rows["target"][:1], 256, "all")
    assert IGNORE not in labels_all[0]


def test_training_lowers_loss_and_is_deterministic(setup):
    base, rows, _ = setup
    cfg = TrainConfig(max_steps=30, batch_size=8, lr=3e-3, log_every=5)
    m1, tok = load_student(base, 0)
    log1 = train(m1, tok, rows["prompt"], rows["target"], cfg, seed=0, progress=False)
    assert log1["loss"].iloc[-1] < 0.75 * log1["loss"].iloc[0]  # untrained stays near 1.0x
    m2, _ = load_student(base, 0)
    log2 = train(m2, tok, rows["prompt"], rows["target"], cfg, seed=0, progress=False)
    assert log1["loss"].tolist() == log2["loss"].tolist()
    assert all(
        torch.equal(a, b) for a, b in zip(m1.state_dict().values(), m2.state_dict().values())
    )
    m3, _ = load_student(base, 1)
    log3 = train(m3, tok, rows["prompt"], rows["target"], cfg, seed=1, progress=False)
    assert log3["loss"].tolist() != log1["loss"].tolist()


def test_continuation_logprobs_match_a_manual_forward_pass(setup):
    base, _, _ = setup
    model, tok = load_student(base, 0)
    ctx, cont = "Question: is", "Answer: B"
    got = continuation_logprobs(model, tok, [ctx, ctx + " kol"], [cont, cont], batch_size=2)
    c = tok(ctx, add_special_tokens=False)["input_ids"]
    k = tok(cont, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        logp = torch.log_softmax(model(torch.tensor([c + k])).logits[0], -1)
    manual = sum(float(logp[len(c) - 1 + j, t]) for j, t in enumerate(k))
    assert got[0] == pytest.approx(manual, abs=1e-4) and got[0] != got[1]


def per_letter_scores(model, tok, contexts, n_choices):
    """The reference: one forward pass per (context, letter)."""
    return choice_logprobs_per_letter(model, tok, contexts, n_choices, batch_size=3)


def test_one_pass_choice_scores_equal_one_pass_per_letter(setup):
    base, _, test = setup
    model, tok = load_student(base, 0)
    # contexts of different lengths in one batch (left padding), 2 to 5 letters
    contexts = list(test["prompt"][:6]) + [
        test["prompt"][0] + "Reason : zab weighs 3 .\n",
        "Question:",
    ]
    n_choices = [2, 3, 4, 5, 2, 2, 5, 3]
    fast = choice_logprobs(model, tok, contexts, n_choices, batch_size=4)
    slow = per_letter_scores(model, tok, contexts, n_choices)
    assert [len(f) for f in fast] == n_choices
    for f, s in zip(fast, slow):
        assert f == pytest.approx(s, abs=1e-4)
        assert max(range(len(f)), key=f.__getitem__) == max(range(len(s)), key=s.__getitem__)
    assert len({tuple(round(x, 3) for x in f) for f in fast}) > 1  # contexts do matter


@pytest.mark.parametrize("arch", ["gpt2", "mistral", "phi", "gemma", "gemma2"])
def test_one_pass_choice_scores_hold_for_rotary_and_softcapped_models(setup, arch):
    """Left padding with position ids from the mask: RoPE models and Gemma-2's softcap too."""
    import transformers as tr
    from test_lens import TINY

    base, _, test = setup
    _, tok = load_student(base, 0)
    torch.manual_seed(0)
    config = TINY[arch]()
    config.vocab_size = len(tok)
    model = tr.AutoModelForCausalLM.from_config(config).eval()
    contexts = list(test["prompt"][:3]) + [test["prompt"][0] + "Reason : zab weighs 3 .\n"]
    n_choices = [2, 4, 3, 2]
    fast = choice_logprobs(model, tok, contexts, n_choices, batch_size=4)
    for f, s in zip(fast, per_letter_scores(model, tok, contexts, n_choices)):
        assert f == pytest.approx(s, abs=1e-4)


@pytest.mark.parametrize(
    "text,n,expect",
    [
        ("Answer : B Reason : ...", 2, "B"),
        ("Reason : x y . Answer: (A)", 2, "A"),
        ("Answer : C", 2, None),
        ("no answer", 2, None),
    ],
)
def test_parse_label(text, n, expect):
    assert parse_label(text, n) == expect


def test_evaluate_keeps_every_prediction(setup):
    base, rows, test = setup
    model, tok = load_student(base, 0)
    train(model, tok, rows["prompt"], rows["target"], TrainConfig(max_steps=5), 0, progress=False)
    pred = evaluate(
        model,
        tok,
        test,
        rationale_first=True,
        cfg=EvalConfig(max_new_tokens_rationale=12),
        progress=False,
    )
    assert pred["id"].tolist() == test["id"].tolist()
    assert all(len(s) == 2 for s in pred["choice_logprobs"])
    assert pred["choice_correct"].tolist() == (pred["choice_pred"] == pred["label"]).tolist()
    assert not pred.loc[~pred["gen_parsed"], "gen_correct"].any()


def test_tables_are_recomputed_from_prediction_rows(tmp_path):
    paths = []
    for seed, correct in ((0, [True, True, False, False]), (1, [True, True, True, False])):
        path = tmp_path / f"predictions-{seed}.parquet"  # any name: the rows say whose they are
        run = {"student": "s", "teacher": "t", "dataset": "d", "condition": "cot_after"}
        write_table(
            stamp(
                pd.DataFrame(
                    {
                        "id": list("abcd"),
                        "gen_correct": correct,
                        "choice_correct": correct,
                        "gen_parsed": [True] * 4,
                        "choice_logprobs": [[-1.0, -2.0]] * 2 + [[-1.0, -2.0, -3.0, -4.0]] * 2,
                    }
                ),
                {**run, "seed": seed},
            ),
            path,
            params={"seed": seed},
        )
        paths.append(str(path))
    runs = per_run(paths)
    assert runs["gen_accuracy"].tolist() == [0.5, 0.75] and runs["seed"].tolist() == [0, 1]
    table = summarise(runs)
    assert table.loc[0, "gen_accuracy"] == pytest.approx(0.625) and table.loc[0, "seeds"] == 2
    assert table.loc[0, "gen_accuracy_low"] <= 0.5 and table.loc[0, "gen_accuracy_high"] >= 0.75
    assert table.loc[0, "chance"] == pytest.approx((0.5 + 0.5 + 0.25 + 0.25) / 4)
    assert "| s | t | d | cot_after | 2 | 62.5 [" in to_markdown(table)
    assert "| 50.0 / 75.0 |" in to_markdown(table)
    assert read_provenance(paths[0])["params"] == {"seed": 0}


def test_comparisons_pair_the_same_examples_whatever_their_row_order(tmp_path):
    paths = []
    base = [True] * 20 + [False] * 20
    for condition, correct in (("label_only", base), ("cot_after", [True] * 35 + [False] * 5)):
        for seed in (0, 1):
            order = list(range(40)) if seed == 0 else list(reversed(range(40)))  # shuffled rows
            path = tmp_path / f"{condition}-{seed}.parquet"
            run = {"student": "s", "teacher": "t", "dataset": "d", "condition": condition}
            write_table(
                stamp(
                    pd.DataFrame(
                        {
                            "id": [f"q{i}" for i in order],
                            "gen_correct": [correct[i] for i in order],
                            "choice_correct": [correct[i] for i in order],
                            "gen_parsed": True,
                        }
                    ),
                    {**run, "seed": seed},
                ),
                path,
            )
            paths.append(str(path))
    table = compare(correctness(per_run(paths)), ["label_only", "cot_after"])
    row = table[(table["condition"] == "cot_after") & (table["metric"] == "gen_accuracy")].iloc[0]
    assert row["reference"] == "label_only" and row["difference"] == pytest.approx(15 / 40)
    assert row["only_condition"] == [15, 15] and row["only_reference"] == [0, 0]
    assert row["low"] > 0 and all(p < 1e-3 for p in row["p_holm"])
    back = table[(table["condition"] == "label_only") & (table["reference"] == "cot_after")]
    assert (back["difference"] == -row["difference"]).all()


def test_pretrained_student_from_a_local_folder_honours_dtype(setup, tmp_path):
    base, _, _ = setup
    model, tok = load_student(base, 0)
    folder = tmp_path / "local-model"
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    out = tmp_path / "base"
    prepare_student({"kind": "pretrained", "model": str(folder), "dtype": "bfloat16"}, [], out)
    loaded, loaded_tok = load_student(out, seed=0)
    assert next(loaded.parameters()).dtype == torch.bfloat16
    assert loaded_tok.get_vocab() == tok.get_vocab()
    assert torch.equal(
        loaded.state_dict()["transformer.wte.weight"].float(),
        model.state_dict()["transformer.wte.weight"].to(torch.bfloat16).float(),
    )


@pytest.mark.parametrize("arch", [None, "gpt2", "mistral"])
def test_label_first_evaluation_from_one_prefill_equals_generate_then_score(setup, arch):
    """Generation and choice scores sharing one prefill (label-first runs) equal a plain
    greedy ``generate`` followed by one pass per (prompt, letter)."""
    import transformers as tr
    from cotdistill.evaluate import generate, generate_and_score
    from test_lens import TINY

    base, rows, test = setup
    model, tok = load_student(base, 0)
    if arch is None:  # the scratch student, trained a little so it writes "Answer: X"
        train(
            model,
            tok,
            rows["prompt"],
            rows["target"],
            TrainConfig(max_steps=40, lr=3e-3),
            0,
            progress=False,
        )
    else:
        config = TINY[arch]()
        config.vocab_size = len(tok)
        torch.manual_seed(0)
        model = tr.AutoModelForCausalLM.from_config(config).eval()
    model.eval()
    prompts = list(test["prompt"][:10])
    n_choices = [2, 2, 3, 2, 4, 2, 2, 5, 2, 2]
    texts, scores = generate_and_score(
        model, tok, prompts, n_choices, 6, batch_size=4, progress=False
    )
    assert texts == generate(model, tok, prompts, 6, batch_size=4, progress=False)
    for got, want in zip(scores, per_letter_scores(model, tok, prompts, n_choices)):
        assert got == pytest.approx(want, abs=1e-4)
    if arch is None:
        assert sum(t.startswith("Answer") for t in texts) >= 5  # the reuse path is exercised


def test_precision_auto_is_bf16_only_where_it_is_native(monkeypatch):
    """bf16 autocast on a CPU without AVX512-BF16 or AMX is emulated and slower
    (benchmarks/cpu_bf16.py): 'auto' keeps fp32 there and picks bf16 where it is native."""
    from cotdistill import train as T

    cpu = torch.device("cpu")
    assert T.resolve_precision("fp32", cpu) == "fp32" and T.resolve_precision("bf16", cpu) == "bf16"
    for native in (True, False):
        monkeypatch.setattr(T, "bf16_pays", lambda device, native=native: native)
        assert T.resolve_precision("auto", cpu) == ("bf16" if native else "fp32")
    with pytest.raises(ValueError, match="'fp32', 'bf16' or 'auto'"):
        T.resolve_precision("fp16", cpu)
    with T.autocast("bf16", cpu):
        assert torch.get_autocast_dtype("cpu") == torch.bfloat16 and torch.is_autocast_enabled(
            "cpu"
        )
    with T.autocast("fp32", cpu):
        assert not torch.is_autocast_enabled("cpu")
