"""The lens stage: readouts through the model's own head, the tuned lens, the tables."""

import json
import math

import pandas as pd
import pytest
import torch
import transformers as tr
from torch import nn

from cotdistill import conditions as C
from cotdistill.data.synthetic import generate_split
from cotdistill.evaluate import EvalConfig, evaluate
from cotdistill.lens.probe import answer_tokens, contexts
from cotdistill.lens.readout import LensError, Readout
from cotdistill.lens.run import LensConfig, lens_table
from cotdistill.lens.summary import curves, emergence, emergence_layer, plot, to_markdown
from cotdistill.runs import read_identity, stamp
from cotdistill.stages import FORMAT_WORDS, LensJob, evaluate_run, lens_run
from cotdistill.students import load_student, load_tokenizer, prepare_student
from cotdistill.tables import read_provenance, read_table, write_table
from cotdistill.teachers import run_teacher
from cotdistill.train import TrainConfig, train

from test_real_models import csqa, palm_rationales

# float32 readout at the last layer vs the model's logits: rounding only
ATOL = 1e-4

TINY = {
    "gpt2": lambda: tr.GPT2Config(
        n_embd=32, n_layer=3, n_head=2, vocab_size=64, bos_token_id=0, eos_token_id=0
    ),
    "mistral": lambda: tr.MistralConfig(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=3,
        num_attention_heads=4,
        num_key_value_heads=2,
        vocab_size=64,
    ),
    "phi": lambda: tr.PhiConfig(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=3,
        num_attention_heads=4,
        vocab_size=64,
    ),
    "gemma": lambda: tr.GemmaConfig(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=3,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=8,
        vocab_size=64,
    ),
    "gemma2": lambda: tr.Gemma2Config(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=3,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=8,
        vocab_size=64,
        final_logit_softcapping=2.0,
    ),
}


def check_readout(model, ids):
    """Last layer's readout == the model's logits; earlier captures == hidden_states."""
    readout = Readout.of(model)
    with torch.no_grad(), readout.capture(lambda h: h.clone()) as states:
        out = model(ids, output_hidden_states=True)
    assert len(states) == readout.n_layers + 1 == len(out.hidden_states)
    gap = (readout.logits(states[-1]) - out.logits).abs().max().item()
    assert gap <= ATOL * max(1.0, out.logits.abs().max().item()), gap
    # HF's last hidden state is already normalised; the ones before it are the raw stream
    for mine, theirs in zip(states[:-1], out.hidden_states[:-1]):
        assert torch.equal(mine, theirs)
    # an earlier layer reads out something else: the check above is not vacuous
    assert (readout.logits(states[-2]) - out.logits).abs().max().item() > 100 * ATOL
    return readout


@pytest.mark.parametrize("arch", sorted(TINY))
def test_logit_lens_reproduces_the_logits_of_every_architecture(arch):
    torch.manual_seed(0)
    model = tr.AutoModelForCausalLM.from_config(TINY[arch]()).eval()
    readout = check_readout(model, torch.randint(0, 64, (2, 9)))
    assert readout.n_layers == 3
    if arch == "gemma2":  # softcapped logits stay inside (-cap, cap)
        assert readout.softcap == 2.0


def test_logit_lens_reproduces_smollm2(smollm2_hf):
    model = tr.AutoModelForCausalLM.from_pretrained(smollm2_hf).eval()
    tok = load_tokenizer(smollm2_hf)
    ids = tok(
        ["Question: where do you keep milk?\nAnswer:", "Reason: a fridge is cold."],
        return_tensors="pt",
        padding=True,
        add_special_tokens=False,
    )["input_ids"]
    readout = check_readout(model, ids)
    assert readout.n_layers == 30 and type(readout.norm).__name__ == "LlamaRMSNorm"


def test_a_model_without_a_final_norm_is_refused():
    model = tr.GPT2LMHeadModel(TINY["gpt2"]())
    model.transformer.ln_f = nn.Identity()
    with pytest.raises(LensError, match="final norm"):
        Readout.of(model)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A scratch student trained briefly under cot_before, and its evaluation."""
    data = generate_split("train", n_entities=8, max_value=8)
    rat = run_teacher({"backend": "rule_based"}, data, "train")
    base = tmp_path_factory.mktemp("lens_student")
    prepare_student(
        {"kind": "scratch_gpt2", "architecture": {"n_layer": 2, "n_head": 2, "n_embd": 32}},
        list(data["question"]) + list(rat["rationale"]) + [FORMAT_WORDS],
        base,
    )
    rows = C.build_train("cot_before", {}, data, rat)
    test = C.build_test(generate_split("test", n_entities=8, max_value=8)).head(24)
    test["rationale_first"] = True
    model, tok = load_student(base, 0)
    train(
        model,
        tok,
        rows["prompt"],
        rows["target"],
        TrainConfig(max_steps=60, batch_size=16, lr=3e-3),
        seed=0,
        progress=False,
    )
    pred = evaluate(model, tok, test, True, EvalConfig(max_new_tokens_rationale=30), progress=False)
    return model, tok, rows, test, pred


def test_readout_position_follows_the_generated_rationale(tiny_run):
    model, tok, rows, test, pred = tiny_run
    ctx = contexts(test, pred, rationale_first=True)
    assert all(c.startswith(p) and "Reason" in c[len(p) :] for c, p in zip(ctx, test["prompt"]))
    mark, own = answer_tokens(tok, 2)
    assert tok.decode(mark).replace(" ", "") == "Answer:" and len(set(own)) == 2
    table, summary = lens_table(
        model, tok, rows, test, pred, LensConfig(tuned=None), progress=False
    )
    first = table[(table["lens"] == "logit") & (table["layer"] == 0)]
    expect = [len(tok(c, add_special_tokens=False)["input_ids"]) + len(mark) - 1 for c in ctx]
    assert first["position"].tolist() == expect
    with pytest.raises(LensError, match="ids or order"):
        contexts(test, pred.iloc[::-1], rationale_first=True)


def test_the_evaluate_job_reads_the_same_lens_as_a_job_of_its_own(tiny_run, tmp_path):
    """The workflow's evaluate job reads the lens from the model it just evaluated:
    tables equal to evaluating, then loading the model afresh for the lens alone. Both
    ways stamp the run's identity on every table they write."""
    model, tok, rows, test, _ = tiny_run
    model.save_pretrained(tmp_path / "model")
    tok.save_pretrained(tmp_path / "model")
    write_table(rows, tmp_path / "train.parquet")
    write_table(test, tmp_path / "test.parquet")
    run = {k: str(tmp_path / k) for k in ("model", "train.parquet", "test.parquet")}
    eval_spec = {"max_new_tokens_rationale": 30}
    lens_spec = {"batch_size": 8, "tuned": {"examples": 32, "steps": 12, "batch_positions": 32}}
    out = {k: str(tmp_path / f"{k}.parquet") for k in ("pred1", "lens1", "pred2", "lens2")}
    ident = {"student": "s", "teacher": "t", "dataset": "d", "condition": "cot_after", "seed": 3}
    evaluate_run(
        run["model"],
        run["test.parquet"],
        eval_spec,
        out["pred1"],
        str(tmp_path / "m1.json"),
        progress=False,
        lens=LensJob(lens_spec, run["train.parquet"], out["lens1"]),
        run=ident,
    )
    evaluate_run(
        run["model"],
        run["test.parquet"],
        eval_spec,
        out["pred2"],
        str(tmp_path / "m2.json"),
        progress=False,
        run=ident,
    )
    lens_run(
        run["model"],
        run["train.parquet"],
        run["test.parquet"],
        out["pred2"],
        lens_spec,
        out["lens2"],
        progress=False,
        run=ident,
    )
    for table in (out["pred1"], out["lens1"], out["lens2"]):
        assert read_identity(table) == ident
    assert read_table(out["lens1"])["seed"].eq(3).all()
    assert json.loads((tmp_path / "m1.json").read_text())["run"] == ident
    pd.testing.assert_frame_equal(read_table(out["pred1"]), read_table(out["pred2"]))
    together, alone = read_table(out["lens1"]), read_table(out["lens2"])
    assert set(together["lens"]) == {"logit", "tuned"} and len(together) == len(test) * 3 * 2
    pd.testing.assert_frame_equal(together, alone, check_exact=True)
    assert read_provenance(out["lens1"])["params"] == read_provenance(out["lens2"])["params"]


def test_last_layer_agrees_with_choice_scoring(tiny_run):
    """Evaluation scores 'Answer: X' per letter after the same context; only the letter
    token differs, so the logit lens's last-layer top choice is evaluation's choice."""
    model, tok, rows, test, pred = tiny_run
    table, summary = lens_table(
        model,
        tok,
        rows,
        test,
        pred,
        LensConfig.from_dict({"tuned": {"steps": 20, "max_positions": 512}}),
        progress=False,
    )
    assert set(table["lens"]) == {"logit", "tuned"}
    last = table[table["layer"] == summary["n_layers"]].set_index(["lens", "id"])
    for lens in ("logit", "tuned"):
        assert last.loc[lens, "top_choice"].tolist() == pred["choice_pred"].tolist()
        assert (last.loc[lens, "kl_to_final"].abs() < 1e-5).all()
    assert ((table["gold_rank_choices"] == 1) == table["top_correct"]).all()
    assert table["gold_prob"].between(0, 1).all() and (table["gold_rank_vocab"] >= 1).all()
    assert (table["gold_rank_vocab"] >= table["gold_rank_choices"]).all()


def test_tuned_lens_is_closer_to_the_output_than_the_logit_lens_on_smollm2(
    smollm2_hf, shared_data, tmp_path
):
    """Real SmolLM2-135M, real CommonsenseQA rows and PaLM rationales, a small budget."""
    train_data, test_data = csqa(shared_data, "train", 16), csqa(shared_data, "test", 8)
    rows = C.build_train("cot_after", {}, train_data, palm_rationales(shared_data, train_data))
    test = C.build_test(test_data)
    test["rationale_first"] = False
    paths = {name: tmp_path / f"{name}.parquet" for name in ("rows", "test", "pred", "lens")}
    write_table(rows, paths["rows"])
    write_table(test, paths["test"])
    write_table(pd.DataFrame({"id": test["id"], "generation": ""}), paths["pred"])
    spec = {
        "batch_size": 8,
        "tuned": {
            "examples": 16,
            "max_positions": 1024,
            "steps": 12,
            "batch_positions": 16,
            "lr": 1e-3,
        },
    }
    lens_run(
        str(smollm2_hf),
        str(paths["rows"]),
        str(paths["test"]),
        str(paths["pred"]),
        spec,
        str(paths["lens"]),
        threads=2,
        progress=False,
    )
    table = read_table(paths["lens"])
    assert len(table) == 8 * 31 * 2
    kl = table.groupby(["lens", "layer"])["kl_to_final"].mean().unstack("lens")
    inner = kl.iloc[:-1]  # layers 0..29; layer 30 is the output itself for both
    assert (kl.iloc[-1].abs() < 1e-4).all()
    assert inner["tuned"].mean() < 0.8 * inner["logit"].mean(), kl
    assert (inner["tuned"] < inner["logit"]).mean() >= 0.9, kl
    prov = read_provenance(paths["lens"])["params"]
    assert prov["n_layers"] == 30 and len(prov["tuned_train_kl"]) == 30
    assert prov["test_kl"]["tuned"][0] == pytest.approx(inner["tuned"].iloc[0], rel=1e-6)


@pytest.mark.parametrize(
    "accuracy,expect",
    [
        ([0.5, 0.6, 0.96, 1.0], 2),  # gain 0.5 over chance 0.5: 90% of it is reached at layer 2
        ([0.5, 0.98, 0.9, 1.0], 3),  # a spike at layer 1 that falls back does not count
        ([0.5, 0.98, 0.96, 1.0], 1),  # the first layer from which it stays there
        ([0.5, 0.5, 0.52], None),  # within two standard errors of chance (n = 100)
    ],
)
def test_emergence_layer(accuracy, expect):
    assert emergence_layer(accuracy, chance=0.5, n=100, fraction=0.9) == expect


def fake_lens_file(tmp_path, condition, seed, top_by_layer, n=40):
    """A run's lens.parquet whose top-choice accuracy per layer is ``top_by_layer``."""
    rows = []
    for layer, acc in enumerate(top_by_layer):
        for i in range(n):
            correct = i < round(acc * n)
            rows.append(
                {
                    "id": f"q{i}",
                    "label": "A",
                    "lens": "logit",
                    "layer": layer,
                    "position": 5,
                    "gold_prob": 0.9 if correct else 0.1,
                    "gold_logprob": math.log(0.9 if correct else 0.1),
                    "gold_rank_choices": 1 if correct else 2,
                    "gold_rank_vocab": 1 + (not correct),
                    "top_choice": "A" if correct else "B",
                    "top_correct": correct,
                    "kl_to_final": 0.1 * (len(top_by_layer) - 1 - layer),
                    "n_choices": 2,
                }
            )
    path = tmp_path / f"lens-{condition}-{seed}.parquet"
    run = {"student": "s", "teacher": "t", "dataset": "d", "condition": condition, "seed": seed}
    write_table(stamp(pd.DataFrame(rows), run), path)
    return str(path)


def test_tables_and_plot_from_lens_files(tmp_path):
    paths = [
        fake_lens_file(tmp_path, "cot_after", 0, [0.5, 0.5, 1.0]),
        fake_lens_file(tmp_path, "cot_after", 1, [0.5, 1.0, 1.0]),
        fake_lens_file(tmp_path, "label_only", 0, [0.5, 0.5, 0.5]),
        fake_lens_file(tmp_path, "label_only", 1, [0.5, 0.5, 0.5]),
    ]
    table = curves(paths)
    assert len(table) == 4 * 3 and set(table["seed"]) == {0, 1}
    assert table["chance"].eq(0.5).all() and table["n_layers"].eq(2).all()
    found = emergence(table, 0.9, ["label_only", "cot_after"]).set_index("condition")
    assert found.loc["cot_after", "layer_per_seed"] == "2, 1"
    assert found.loc["cot_after", "layer_mean"] == 1.5
    assert found.loc["label_only", "emerged_seeds"] == 0
    assert math.isnan(found.loc["label_only", "layer_mean"])
    md = to_markdown(found.reset_index(), 0.9)
    assert "| label_only | 2 | never | -, - |" in md and "stays at or above 90%" in md
    out = tmp_path / "lens.png"
    plot(table, str(out), "s / t / d", ["label_only", "cot_after"])
    assert out.stat().st_size > 10000


def test_per_question_settle_layers_compare_the_questions_both_answer(tmp_path):
    """The layer from which the gold choice stays on top, per question; two conditions are
    compared on the questions every run of both answers correctly at the last layer."""
    from cotdistill.lens.summary import paired_settle, settle_layers

    # q0..q19 right from layer 1 (seed 0) / layer 2 (seed 1); q20..q39 wrong at the end
    early = [
        fake_lens_file(tmp_path, "cot_after", s, acc, n=40)
        for s, acc in ((0, [0.0, 0.5, 0.5]), (1, [0.0, 0.0, 0.5]))
    ]
    late = [fake_lens_file(tmp_path, "label_only", s, [0.0, 0.0, 0.75]) for s in (0, 1)]
    layers = settle_layers(early[0])
    assert layers["q0"] == 1 and pd.isna(layers["q30"])
    iv, n = paired_settle(early, late)
    assert n == 20  # q0..q19: right in every run of both
    assert iv.estimate == pytest.approx(-0.5)  # (1 + 2) / 2 - 2
    assert iv.low <= -0.5 <= iv.high
    none, n = paired_settle(early, [fake_lens_file(tmp_path, "label_only", 2, [0.0, 0.0, 0.0])])
    assert none is None and n == 0
