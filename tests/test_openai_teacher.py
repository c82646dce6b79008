"""The ``openai`` teacher backend over real HTTP.

Two servers: llama.cpp's OpenAI-compatible server serving the real SmolLM2
GGUF (the happy path and resume), and a small scripted server on localhost
that fails on command (retries, give-up, concurrency bound, key handling),
because a real server cannot be made to return 503 or 429 at will.
"""

import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest

from cotdistill.data import load_dataset_split
from cotdistill.data.schema import letters
from cotdistill.teachers import run_teacher
from cotdistill.teachers.base import make_teacher
from cotdistill.teachers.openai_compat import ServerError

from conftest import require


def questions(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [f"q{i}" for i in range(n)],
            "question": [f"What is {i} plus one?" for i in range(n)],
            "choices": [[str(i + 1), str(i + 2)] for i in range(n)],
            "label": ["A"] * n,
        }
    )


class Script:
    """What the scripted server answers: a queue of statuses, then 200s."""

    def __init__(self, statuses=(), delay_s=0.0):
        self.statuses, self.delay_s = list(statuses), delay_s
        self.lock = threading.Lock()
        self.in_flight = self.max_in_flight = self.requests = 0
        self.auth_headers, self.bodies = set(), []


@pytest.fixture
def scripted_server():
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with script.lock:
                script.requests += 1
                script.in_flight += 1
                script.max_in_flight = max(script.max_in_flight, script.in_flight)
                script.auth_headers.add(self.headers.get("Authorization"))
                script.bodies.append(body)
                status = script.statuses.pop(0) if script.statuses else 200
            time.sleep(script.delay_s)
            with script.lock:
                script.in_flight -= 1
            if status != 200:
                self.send_response(status)
                self.send_header("Retry-After", "0")
                self.end_headers()
                self.wfile.write(b'{"error": "scripted failure"}')
                return
            question = body["messages"][-1]["content"].splitlines()[0].removeprefix("Question: ")
            reply = {
                "choices": [
                    {
                        "message": {
                            "role": "assistant",
                            "content": f"The answer is A because {question}",
                        }
                    }
                ]
            }
            data = json.dumps(reply).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1", script
    server.shutdown()


def spec(url: str, **extra) -> dict:
    return {
        "backend": "openai",
        "base_url": url,
        "model": "m",
        "prompt": "commonsense_qa",
        "backoff_s": 0.01,
        "max_retries": 3,
        **extra,
    }


def test_transient_failures_are_retried_and_order_is_kept(scripted_server):
    url, script = scripted_server
    script.statuses = [503, 429, 500]
    rat = run_teacher(spec(url, concurrency=1), questions(3), "train")
    assert script.requests == 6  # 3 failures retried, then one success per question
    assert rat["id"].tolist() == ["q0", "q1", "q2"]
    assert rat["rationale"].tolist() == [  # each reply is matched to its own question
        f"The answer is A because What is {i} plus one?" for i in range(3)
    ]
    assert (rat["teacher_answer"] == "A").all()


def test_a_client_error_fails_at_once_and_a_dead_server_gives_up(scripted_server, tmp_path):
    url, script = scripted_server
    script.statuses = [400]
    with pytest.raises(ServerError, match="HTTP 400.*scripted failure"):
        run_teacher(spec(url), questions(1), "train")
    assert script.requests == 1
    script.statuses = [503] * 10
    with pytest.raises(ServerError, match="gave up after 4 attempts .last: HTTP 503"):
        run_teacher(spec(url), questions(1), "train")
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    # default retries and backoff: a refused port fails at once, naming the fix
    start = time.perf_counter()
    with pytest.raises(ServerError, match=r"nothing answers at .*Fix: start the server"):
        run_teacher({**spec(dead), "max_retries": 5, "backoff_s": 1.0}, questions(1), "train")
    assert time.perf_counter() - start < 5


def test_concurrency_is_bounded_and_the_key_is_sent_but_never_logged(
    scripted_server, monkeypatch, caplog
):
    url, script = scripted_server
    script.delay_s = 0.2
    monkeypatch.setenv("MY_TEACHER_KEY", "sk-secret-123")
    with caplog.at_level(logging.DEBUG):
        rat = run_teacher(
            spec(url, concurrency=3, api_key_env="MY_TEACHER_KEY"), questions(9), "train"
        )
    assert script.max_in_flight == 3
    assert script.auth_headers == {"Bearer sk-secret-123"}
    assert "sk-secret" not in caplog.text
    assert not rat.astype(str).apply(lambda c: c.str.contains("sk-secret")).any().any()
    assert json.loads(rat["gen_params"][0])["model"] == "m"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def llama_server(smollm2_gguf, tmp_path_factory):
    """llama.cpp's OpenAI-compatible server serving the real SmolLM2 GGUF."""
    require("llama_cpp", 'pip install "llama-cpp-python[server]"')
    port = free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).with_name("llama_server.py")),
                "--model",
                str(smollm2_gguf),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--n_ctx",
                "2048",
                "--n_threads",
                str(os.cpu_count() or 1),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.time() + 180
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"{url}/models", timeout=2).read()
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"llama.cpp server exited: {log.read_text()[-2000:]}")
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail(f"llama.cpp server did not start: {log.read_text()[-2000:]}")
    yield url
    proc.terminate()
    proc.wait(timeout=30)


def test_real_llama_cpp_server_writes_rationales_and_resume_sends_nothing(
    llama_server, shared_data, tmp_path
):
    data = load_dataset_split(
        {
            "source": "jsonl",
            "subset": {"train": 3, "seed": 2},
            "files": {"train": str(shared_data / "commonsense_qa/train_rand_split.jsonl")},
        },
        "train",
    )
    options = spec(
        llama_server, model="smollm2", max_tokens=40, concurrency=2, shard_size=2, timeout_s=120
    )
    rat = run_teacher(options, data, "train", shard_dir=str(tmp_path))
    assert rat["id"].tolist() == data["id"].tolist()
    assert (rat["rationale"].str.len() > 0).all()
    parsed = rat["teacher_answer"].isin(letters(5))
    assert parsed.sum() >= 2, rat["rationale"].tolist()  # a 135M model mostly keeps the format

    again = make_teacher(options)
    again.shard_dir = str(tmp_path)
    assert again.rationales(data, "train")["rationale"].tolist() == rat["rationale"].tolist()
    assert again.requests_sent == 0 and again.shard_stats.reused == 2


def openai_config(shared_data, url: str, model: str) -> dict:
    csqa = shared_data / "commonsense_qa"
    return {
        "datasets": {
            "csqa": {
                "source": "jsonl",
                "subset": {"train": 2, "test": 2},
                "files": {
                    "train": str(csqa / "train_rand_split.jsonl"),
                    "test": str(csqa / "dev_rand_split.jsonl"),
                },
            }
        },
        "teachers": {
            "served": {
                "backend": "openai",
                "base_url": url,
                "model": model,
                "prompt": "commonsense_qa",
                "max_tokens": 24,
                "datasets": {"csqa": {}},
            }
        },
        "students": {
            "tiny": {
                "kind": "scratch_gpt2",
                "architecture": {"n_layer": 1, "n_head": 2, "n_embd": 16},
            }
        },
        "conditions": {"label_only": {}},
        "seeds": [0],
        "lens": False,
    }


@pytest.mark.e2e
@pytest.mark.parametrize("model", ["gpt-x", "mistralai/Mistral-7B-Instruct-v0.3"])
def test_an_openai_teacher_runs_offline_with_any_served_model_name(
    llama_server, shared_data, tmp_path, model
):
    """With HF_HUB_OFFLINE=1 (as CI and clusters run), the server's model name is not taken
    for a hub id: the check and a real run's pre-run checks ask the server, not the hub."""
    import yaml

    from conftest import REPO

    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(openai_config(shared_data, llama_server, model)))
    check = subprocess.run(
        [sys.executable, "-m", "cotdistill.check", "--configfile", str(config)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert check.returncode == 0 and "no problems found" in check.stdout, check.stderr
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "--snakefile",
            str(REPO / "Snakefile"),
            "--directory",
            str(tmp_path),
            "--configfile",
            str(config),
            "--cores",
            "1",
            "results/rationales/served/csqa/train.parquet",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert len(pd.read_parquet(tmp_path / "results/rationales/served/csqa/train.parquet")) == 2


def test_a_teacher_server_that_does_not_answer_is_named_before_any_job(shared_data, tmp_path):
    """Nothing listens on the port: the check names the teacher, the URL and the fix; once
    the rationales are written, a run needs no server."""
    from cotdistill.inputs import server_problems

    url = f"http://127.0.0.1:{free_port()}/v1"
    config = openai_config(shared_data, url, "gpt-x")
    (p,) = server_problems(config)
    assert p.startswith(f"'teachers.served.base_url': nothing answers at {url}")
    assert "start the server" in p
    assert server_problems(config, done=lambda teacher, dataset: True) == []
