"""Training checkpoints: a run killed with SIGKILL resumes and ends exactly where an
uninterrupted run ends; stale checkpoints are ignored; gradient accumulation and
bf16 autocast train the same model (within float error)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import torch
from safetensors.torch import load_file

from cotdistill import checkpoints
from cotdistill import conditions as C
from cotdistill.data.synthetic import generate_split
from cotdistill.stages import FORMAT_WORDS, train_run
from cotdistill.students import load_student, prepare_student
from cotdistill.tables import write_table
from cotdistill.teachers import run_teacher
from cotdistill.train import TrainConfig, train

SRC = Path(__file__).resolve().parents[1] / "src"
ARCH = {"n_layer": 2, "n_head": 2, "n_embd": 64}  # dropout on: the RNG state must resume too
SPEC = {"max_steps": 300, "batch_size": 8, "lr": 3e-3, "log_every": 10}
EVERY = 25  # steps between checkpoints
TIMING = ["elapsed_s", "tokens_per_s"]


@pytest.fixture(scope="module")
def student(tmp_path_factory):
    data = generate_split("train", n_entities=8, max_value=8)
    rat = run_teacher({"backend": "rule_based"}, data, "train")
    root = tmp_path_factory.mktemp("ckpt")
    prepare_student(
        {"kind": "scratch_gpt2", "architecture": ARCH},
        list(data["question"]) + list(rat["rationale"]) + [FORMAT_WORDS],
        root / "base",
    )
    rows = C.build_train("cot_after", {}, data, rat)
    write_table(rows, root / "train.parquet")
    return root


def run_in_child(student: Path, out: Path) -> subprocess.Popen:
    code = (
        f"import sys; sys.path.insert(0, {str(SRC)!r})\n"
        "from cotdistill.stages import train_run\n"
        f"train_run({str(student / 'base')!r}, {str(student / 'train.parquet')!r}, {SPEC!r}, 0,"
        f" {str(out / 'model')!r}, {str(out / 'log.parquet')!r}, progress=False,"
        f" checkpoint_dir={str(out / 'ckpt')!r}, checkpoint_every={EVERY})\n"
    )
    return subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)


def test_a_run_killed_after_a_checkpoint_resumes_to_the_same_model(student, tmp_path):
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    train_run(
        str(student / "base"),
        str(student / "train.parquet"),
        SPEC,
        0,
        str(whole / "model"),
        str(whole / "log.parquet"),
        progress=False,
        checkpoint_dir=str(whole / "ckpt"),
        checkpoint_every=EVERY,
    )
    assert not (whole / "ckpt").exists()  # a finished run leaves no checkpoint behind

    child = run_in_child(student, killed)
    deadline = time.time() + 120
    while not (killed / "ckpt" / checkpoints.FILE).exists():
        assert child.poll() is None, child.stderr.read()
        assert time.time() < deadline, "no checkpoint within 120 s"
        time.sleep(0.01)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL
    saved = torch.load(killed / "ckpt" / checkpoints.FILE, weights_only=False)["step"]
    assert EVERY <= saved < SPEC["max_steps"] and not (killed / "model").exists()

    train_run(
        str(student / "base"),
        str(student / "train.parquet"),
        SPEC,
        0,
        str(killed / "model"),
        str(killed / "log.parquet"),
        progress=False,
        checkpoint_dir=str(killed / "ckpt"),
        checkpoint_every=EVERY,
    )
    a = load_file(whole / "model" / "model.safetensors")
    b = load_file(killed / "model" / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    log_a = pd.read_parquet(whole / "log.parquet").drop(columns=TIMING)
    log_b = pd.read_parquet(killed / "log.parquet").drop(columns=TIMING)
    pd.testing.assert_frame_equal(log_a, log_b)
    assert not (killed / "ckpt").exists()


def test_a_checkpoint_from_other_settings_is_not_resumed(student, tmp_path, caplog):
    cfg = TrainConfig.from_dict({**SPEC, "max_steps": 30, "checkpoint_every": 10})
    rows = pd.read_parquet(student / "train.parquet")
    model, tok = load_student(student / "base", 0)
    train(model, tok, rows["prompt"], rows["target"], cfg, 0, False, checkpoint_dir=tmp_path)
    assert torch.load(tmp_path / checkpoints.FILE, weights_only=False)["step"] == 20
    other = TrainConfig.from_dict({**SPEC, "max_steps": 30, "checkpoint_every": 10, "lr": 1e-3})
    model, tok = load_student(student / "base", 0)
    with caplog.at_level("WARNING"):
        log = train(
            model, tok, rows["prompt"], rows["target"], other, 0, False, checkpoint_dir=tmp_path
        )
    assert "written for other data, settings, seed or base model" in caplog.text
    assert log["step"].iloc[0] == 1  # started over


def test_gradient_accumulation_matches_the_whole_batch(student):
    rows = pd.read_parquet(student / "train.parquet")
    base = {"max_steps": 8, "batch_size": 8, "lr": 3e-3, "log_every": 1}
    # no dropout, so the two runs see the same noise
    whole, tok = load_student(student / "base", 0)
    pieces, _ = load_student(student / "base", 0)
    for m in (whole, pieces):
        m.config.resid_pdrop = m.config.embd_pdrop = m.config.attn_pdrop = 0.0
        for mod in m.modules():
            if isinstance(mod, torch.nn.Dropout):
                mod.p = 0.0
    log_whole = train(whole, tok, rows["prompt"], rows["target"], TrainConfig(**base), 0, False)
    log_pieces = train(
        pieces,
        tok,
        rows["prompt"],
        rows["target"],
        TrainConfig(**base, micro_batch_size=3),
        0,
        False,
    )
    assert log_whole["tokens"].tolist() == log_pieces["tokens"].tolist()
    assert log_pieces["loss"].tolist() == pytest.approx(log_whole["loss"].tolist(), rel=1e-4)
    for (name, a), b in zip(whole.state_dict().items(), pieces.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-5), name


def test_bf16_autocast_keeps_fp32_weights_and_learns(student):
    rows = pd.read_parquet(student / "train.parquet")
    model, tok = load_student(student / "base", 0)
    cfg = TrainConfig(max_steps=30, batch_size=8, lr=3e-3, log_every=5, precision="bf16")
    log = train(model, tok, rows["prompt"], rows["target"], cfg, 0, False)
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert log["loss"].iloc[-1] < 0.8 * log["loss"].iloc[0]
    fp32, _ = load_student(student / "base", 0)
    log32 = train(
        fp32,
        tok,
        rows["prompt"],
        rows["target"],
        TrainConfig(max_steps=30, batch_size=8, lr=3e-3, log_every=5),
        0,
        False,
    )
    assert log["loss"].tolist() != log32["loss"].tolist()  # autocast really ran in bf16
    assert log["loss"].iloc[-1] == pytest.approx(log32["loss"].iloc[-1], rel=0.1)
    with pytest.raises(ValueError, match="precision"):
        train(fp32, tok, rows["prompt"], rows["target"], TrainConfig(precision="fp16"), 0, False)


def test_a_checkpoint_of_another_base_model_is_not_resumed(student, tmp_path, caplog):
    cfg = TrainConfig.from_dict({**SPEC, "max_steps": 30, "checkpoint_every": 10})
    rows = pd.read_parquet(student / "train.parquet")
    model, tok = load_student(student / "base", 0)
    train(
        model,
        tok,
        rows["prompt"],
        rows["target"],
        cfg,
        0,
        False,
        checkpoint_dir=tmp_path,
        base={"spec": {"model": "a"}},
    )
    model, tok = load_student(student / "base", 0)
    with caplog.at_level("WARNING"):
        log = train(
            model,
            tok,
            rows["prompt"],
            rows["target"],
            cfg,
            0,
            False,
            checkpoint_dir=tmp_path,
            base={"spec": {"model": "b"}},
        )
    assert "written for other data, settings, seed or base model" in caplog.text
    assert log["step"].iloc[0] == 1


@pytest.mark.parametrize("every,written", [(0, "model"), (2, "ckpt/checkpoint.pt.tmp")])
def test_a_file_size_limit_while_saving_names_the_file_and_the_fix(
    student, tmp_path, every, written
):
    """A real limit (RLIMIT_FSIZE, as `ulimit -f` sets it): safetensors raised
    "SafetensorError ... (os error 27)" and torch.save "unexpected pos", with no path."""
    out = tmp_path / "run"
    code = (
        f"import resource, signal, sys; sys.path.insert(0, {str(SRC)!r})\n"
        "from cotdistill.errors import CotDistillError\n"
        "from cotdistill.stages import train_run\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG, as a shell reports it\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (150_000, 150_000))\n"
        "try:\n"
        f"    train_run({str(student / 'base')!r}, {str(student / 'train.parquet')!r},"
        f" {{'max_steps': 4, 'batch_size': 8}}, 0, {str(out / 'model')!r},"
        f" {str(out / 'log.parquet')!r}, progress=False, checkpoint_dir={str(out / 'ckpt')!r},"
        f" checkpoint_every={every})\n"
        "except CotDistillError as e:\n"
        "    print(e); sys.exit(3)\n"
    )
    child = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300
    )
    assert child.returncode == 3, child.stderr[-2000:]
    assert child.stdout.startswith(f"{out / written}: could not be written (")
    assert "ulimit -f" in child.stdout or "cut short" in child.stdout, child.stdout
    assert "Traceback" not in child.stdout
