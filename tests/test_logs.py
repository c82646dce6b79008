"""A job's output goes to its log; the terminal gets one line per job."""

import subprocess
import sys
import textwrap

from cotdistill.logs import job_name


def run_job(tmp_path, body: str) -> subprocess.CompletedProcess:
    """A job in a fresh process, so that its real file descriptor 2 is checked."""
    code = textwrap.dedent(f"""
        import logging, sys
        from tqdm import tqdm
        from cotdistill.logs import job_log
        with job_log({str(tmp_path / "results/logs/train/s/t/d/cot_after/seed0.log")!r}):
        """) + textwrap.indent(textwrap.dedent(body), "    ")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_progress_bars_and_messages_go_to_the_log_and_one_line_to_the_terminal(tmp_path):
    run = run_job(
        tmp_path,
        """
        for _ in tqdm(range(50), desc="train", mininterval=0):
            pass
        logging.getLogger("cotdistill").info("trained 50 steps")
        import os; os.write(2, b"from C\\n")
    """,
    )
    assert run.returncode == 0, run.stderr
    log = (tmp_path / "results/logs/train/s/t/d/cot_after/seed0.log").read_text()
    assert "50/50" in log and "trained 50 steps" in log and "from C" in log
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "it/s" not in run.stderr
    assert lines[0].startswith("done   train s/t/d/cot_after/seed0 (")
    assert lines[0].endswith("): trained 50 steps")


def test_a_failure_names_the_job_the_error_and_the_log(tmp_path):
    run = run_job(
        tmp_path,
        """
        raise ValueError("row 3 of x.parquet has no label; fix: add one")
    """,
    )
    assert run.returncode != 0
    first = run.stderr.splitlines()[0]
    assert first.startswith("FAILED train s/t/d/cot_after/seed0: ValueError: row 3 of x.parquet")
    assert "seed0.log" in first
    log = (tmp_path / "results/logs/train/s/t/d/cot_after/seed0.log").read_text()
    assert "job failed" in log and "Traceback" in log
    assert "Traceback" not in run.stderr  # the terminal gets the one line only


def test_a_bad_input_failure_is_one_line_with_file_row_and_fix(tmp_path):
    run = run_job(
        tmp_path,
        """
        from cotdistill.errors import InputError
        raise InputError("data/train.jsonl", 6, "not valid JSON", "each line must be one object")
    """,
    )
    assert run.returncode == 1
    assert run.stderr.splitlines() == [
        "FAILED train s/t/d/cot_after/seed0: data/train.jsonl, row 6: not valid JSON. Fix: each "
        f"line must be one object (traceback in {tmp_path}/results/logs/train/s/t/d/cot_after/"
        "seed0.log)"
    ]


def test_job_name_reads_the_log_path():
    assert job_name("results/logs/aggregate.log") == "aggregate"
    assert job_name("w/results/logs/lens/a/b/c/seed1.log") == "lens a/b/c/seed1"


def test_end_job_exits_zero_with_outputs_and_buffered_output_complete(tmp_path):
    out = tmp_path / "out.txt"
    code = textwrap.dedent(f"""
        import logging
        from cotdistill.logs import end_job, job_log
        with job_log({str(tmp_path / "results/logs/evaluate/s/t/d/c/seed0.log")!r}):
            with open({str(out)!r}, "w") as f:
                f.write("x" * 100000)
            logging.getLogger("cotdistill").info("accuracy 0.9")
        print("buffered stdout line", end="")
        end_job()
        raise SystemExit(3)  # never reached
        """)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert out.read_text() == "x" * 100000
    assert run.stdout == "buffered stdout line"
    assert "accuracy 0.9" in run.stderr
    assert "accuracy 0.9" in (tmp_path / "results/logs/evaluate/s/t/d/c/seed0.log").read_text()
