"""Student options: LoRA adapters (peft) and gradient checkpointing, on a tiny GPT-2."""

import pytest
import torch

from cotdistill import conditions as C
from cotdistill.data.synthetic import generate_split
from cotdistill.stages import FORMAT_WORDS
from cotdistill.students import for_saving, load_student, prepare_student
from cotdistill.teachers import run_teacher
from cotdistill.train import TrainConfig, train

from conftest import require

ARCH = {
    "n_layer": 2,
    "n_head": 2,
    "n_embd": 32,
    "resid_pdrop": 0.0,
    "embd_pdrop": 0.0,
    "attn_pdrop": 0.0,
}


@pytest.fixture(scope="module")
def rows_and_corpus():
    data = generate_split("train", n_entities=6, max_value=6)
    rat = run_teacher({"backend": "rule_based"}, data, "train")
    corpus = list(data["question"]) + list(rat["rationale"]) + [FORMAT_WORDS]
    return C.build_train("cot_after", {}, data, rat).head(32), corpus


def base_folder(tmp_path, corpus, **options):
    prepare_student({"kind": "scratch_gpt2", "architecture": ARCH, **options}, corpus, tmp_path)
    return tmp_path


def test_lora_trains_only_adapters_and_saves_a_merged_plain_model(rows_and_corpus, tmp_path):
    require("peft", "pip install peft")
    rows, corpus = rows_and_corpus
    base = base_folder(
        tmp_path / "base", corpus, lora={"r": 4, "alpha": 8, "target_modules": ["c_attn"]}
    )
    model, tok = load_student(base, 0)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n for n in trainable)
    frozen_before = {
        n: p.detach().clone() for n, p in model.named_parameters() if not p.requires_grad
    }
    train(
        model,
        tok,
        rows["prompt"],
        rows["target"],
        TrainConfig(max_steps=5, batch_size=8, lr=1e-2, warmup_ratio=0.0),
        seed=0,
        progress=False,
    )
    assert all(
        torch.equal(p, frozen_before[n]) for n, p in model.named_parameters() if n in frozen_before
    )  # base weights untouched while training
    plain = for_saving(model)
    assert not any("lora_" in n for n, _ in plain.named_parameters())
    original, _ = load_student(base_folder(tmp_path / "plain", corpus), 0)
    merged = dict(plain.named_parameters())
    changed = [n for n, p in original.named_parameters() if not torch.equal(p, merged[n])]
    assert changed and all("c_attn" in n for n in changed)  # adapters merged where they sat


def test_gradient_checkpointing_gives_the_same_training(rows_and_corpus, tmp_path):
    rows, corpus = rows_and_corpus
    cfg = TrainConfig(max_steps=4, batch_size=8, lr=1e-3, log_every=1)
    losses = []
    for name, options in (("plain", {}), ("ckpt", {"gradient_checkpointing": True})):
        model, tok = load_student(base_folder(tmp_path / name, corpus, **options), 0)
        flag = getattr(model, "is_activation_checkpointing", None)
        assert (model.is_gradient_checkpointing if flag is None else flag) == bool(options)
        losses.append(
            train(model, tok, rows["prompt"], rows["target"], cfg, 0, progress=False)[
                "loss"
            ].tolist()
        )
    assert losses[0] == pytest.approx(losses[1], rel=1e-5)


def test_scratch_activation_is_gpt2s_tanh_gelu():
    """The scratch default swaps gelu_new for its fused kernel: the same function."""
    import torch
    from transformers.activations import ACT2FN

    from cotdistill.students import SCRATCH_DEFAULTS

    x = torch.linspace(-8, 8, 10001)
    fused, reference = ACT2FN[SCRATCH_DEFAULTS["activation_function"]], ACT2FN["gelu_new"]
    assert SCRATCH_DEFAULTS["activation_function"] != "gelu_new"
    torch.testing.assert_close(fused(x), reference(x), rtol=1e-6, atol=1e-6)


def test_a_lora_run_saves_adapters_only_and_loads_back_as_the_trained_model(
    rows_and_corpus, tmp_path
):
    require("peft", "pip install peft")
    from cotdistill.stages import train_run
    from cotdistill.students import load_trained
    from cotdistill.tables import write_table

    rows, corpus = rows_and_corpus
    lora = {"r": 4, "alpha": 8, "target_modules": ["c_attn"]}
    base = base_folder(tmp_path / "base", corpus, lora=lora)
    write_table(rows, tmp_path / "train.parquet")
    spec = {"max_steps": 5, "batch_size": 8, "lr": 1e-2, "warmup_ratio": 0.0}
    train_run(
        str(base),
        str(tmp_path / "train.parquet"),
        spec,
        3,
        str(tmp_path / "model"),
        str(tmp_path / "log.parquet"),
        progress=False,
    )
    saved = {p.name for p in (tmp_path / "model").iterdir()}
    assert "adapter_model.safetensors" in saved and "model.safetensors" not in saved
    adapters = (tmp_path / "model" / "adapter_model.safetensors").stat().st_size

    # the same training in memory, merged: what the adapters must reproduce
    model, tok = load_student(base, 3)
    train(model, tok, rows["prompt"], rows["target"], TrainConfig(**spec), 3, progress=False)
    expected = for_saving(model).eval()
    loaded, _ = load_trained(tmp_path / "model", torch.device("cpu"))
    ids = tok(list(rows["prompt"][:4]), return_tensors="pt", padding=True)
    with torch.no_grad():
        assert torch.allclose(loaded(**ids).logits, expected(**ids).logits, atol=1e-5)
    full = sum(p.numel() * p.element_size() for p in expected.parameters())
    assert adapters < full / 4  # the point: a fraction of the full model on disk
