"""Teacher backend ``openai``: any OpenAI-compatible chat server (vLLM, llama.cpp, hosted).

One ``/chat/completions`` request per question, at most ``concurrency`` in
flight, each with a timeout; 429, 5xx, timeouts and refused connections are
retried with exponential backoff (``Retry-After`` honoured), other errors
fail at once with the server's message. The key comes from the environment
variable ``api_key_env`` and is never logged or recorded. Rows are written in
the same resumable shards as the ``hf`` backend.
"""

from __future__ import annotations

import json
import logging
import os
import random
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

import pandas as pd

from .base import Teacher, register_backend
from .hf import DEFAULT_STOP, cut_at_stop
from .prompting import FewShotPrompt, prompt_problems
from .shards import generate_in_shards

log = logging.getLogger(__name__)

RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


class ServerError(RuntimeError):
    """The server refused a request for good (or kept failing past the retries)."""


def server_problem(base_url: str, timeout_s: float = 10.0) -> str | None:
    """Why the OpenAI-compatible server at ``base_url`` cannot be used now, or None.
    Any HTTP answer to ``GET {base_url}/models`` will do: the model it serves is the
    server's business (a vLLM name, or whatever llama.cpp takes), not the hub's."""
    url = base_url.rstrip("/") + "/models"
    try:
        urllib.request.urlopen(url, timeout=timeout_s).close()
    except urllib.error.HTTPError:
        return None  # it answered (some servers list no models)
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        return (
            f"nothing answers at {base_url} ({reason}). Fix: start the server (for example "
            "`vllm serve MODEL --port N` or `python -m llama_cpp.server --model FILE "
            "--port N`), or correct base_url"
        )
    return None


@register_backend("openai")
class OpenAITeacher(Teacher):
    """Options: ``base_url`` (e.g. http://localhost:8000/v1), ``model``, ``prompt``,
    ``api_key_env`` (default OPENAI_API_KEY; unset is fine for local servers),
    ``max_tokens``, ``temperature``, ``top_p``, ``stop``, ``seed``,
    ``concurrency``, ``timeout_s``, ``max_retries``, ``backoff_s``, ``shard_size``.
    """

    model_is_served = True

    def __init__(
        self,
        base_url: str,
        model: str,
        prompt: str,
        api_key_env: str = "OPENAI_API_KEY",
        max_tokens: int = 96,
        temperature: float = 0.0,
        top_p: float = 1.0,
        stop: Sequence[str] = DEFAULT_STOP,
        seed: int | None = 0,
        concurrency: int = 4,
        timeout_s: float = 120.0,
        max_retries: int = 5,
        backoff_s: float = 1.0,
        shard_size: int = 256,
    ):
        super().__init__(base_url=base_url, model=model, prompt=prompt)
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model_name, self.prompt = model, FewShotPrompt.load(prompt)
        self.api_key_env = api_key_env
        self.gen = {
            "max_tokens": int(max_tokens),
            "temperature": float(temperature),
            "top_p": float(top_p),
            "stop": list(stop),
            "seed": seed,
        }
        self.concurrency, self.timeout_s = max(1, int(concurrency)), float(timeout_s)
        self.max_retries, self.backoff_s = int(max_retries), float(backoff_s)
        self.shard_size = int(shard_size)
        self.requests_sent = 0  # counts retries too; for logs and tests

    @classmethod
    def option_problems(cls, options) -> list:
        """The base checks and the prompt file's."""
        return super().option_problems(options) + prompt_problems(options)

    def gen_params(self) -> dict:
        """What generation depends on (a change regenerates every shard)."""
        return {"backend": "openai", "base_url": self.url, "model": self.model_name, **self.gen}

    def _headers(self) -> dict:
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(self.api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def _check_listening(self) -> None:
        """Fail at once, not after every retry of every request, when nothing
        listens at base_url (a refused connection; not checked through a proxy)."""
        parts = urllib.parse.urlsplit(self.url)
        if urllib.request.getproxies().get(parts.scheme) and not urllib.request.proxy_bypass(
            parts.hostname or ""
        ):
            return
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            socket.create_connection(
                (parts.hostname, port), timeout=min(self.timeout_s, 10)
            ).close()
        except OSError as e:
            base = self.url.removesuffix("/chat/completions")
            raise ServerError(
                f"nothing answers at {base} ({e}). Fix: start the server (for "
                "example `vllm serve MODEL --port N`), or correct the teacher's "
                "base_url"
            ) from None

    def complete(self, messages: list[dict]) -> str:
        """One chat completion, retried on transient failures."""
        body = {"model": self.model_name, "messages": messages, **self.gen}
        if body["seed"] is None:
            del body["seed"]
        data = json.dumps(body).encode()
        for attempt in range(self.max_retries + 1):
            request = urllib.request.Request(self.url, data=data, headers=self._headers())
            self.requests_sent += 1
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as resp:
                    reply = json.loads(resp.read())
                return reply["choices"][0]["message"]["content"] or ""
            except urllib.error.HTTPError as e:
                detail = e.read()[:300].decode(errors="replace")
                if e.code not in RETRY_STATUS:
                    raise ServerError(f"{self.url} answered HTTP {e.code}: {detail}") from None
                retry_after = _retry_after(e.headers.get("Retry-After"))
                problem = f"HTTP {e.code}"
            except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError) as e:
                retry_after, problem = None, f"{type(e).__name__}: {getattr(e, 'reason', e)}"
            except (KeyError, IndexError, json.JSONDecodeError) as e:
                raise ServerError(
                    f"{self.url} sent a reply without choices[0].message.content ({e})"
                ) from None
            if attempt == self.max_retries:
                raise ServerError(
                    f"{self.url}: gave up after {attempt + 1} attempts (last: {problem})"
                )
            wait = (
                retry_after
                if retry_after is not None
                else (self.backoff_s * 2**attempt * (1 + 0.25 * random.random()))
            )
            log.warning(
                "%s (attempt %d of %d); retrying in %.1f s",
                problem,
                attempt + 1,
                self.max_retries + 1,
                wait,
            )
            time.sleep(wait)
        raise AssertionError("unreachable")

    def rationales(self, data: pd.DataFrame, split: str) -> pd.DataFrame:
        """Rationales of every row from the server, through resumable shards."""
        prompt_hash = self.prompt.hash("chat")
        gen_params = json.dumps(self.gen_params(), sort_keys=True)
        key = {"prompt_hash": prompt_hash, "gen_params": gen_params, "split": split}

        def generate(chunk: pd.DataFrame) -> pd.DataFrame:
            if not self.requests_sent:
                self._check_listening()
            messages = [
                self.prompt.messages(q, list(c))
                for q, c in zip(chunk["question"], chunk["choices"])
            ]
            with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
                texts = list(pool.map(self.complete, messages))  # keeps input order
            return pd.DataFrame(
                {
                    "id": chunk["id"].astype(str).tolist(),
                    "rationale": [cut_at_stop(t, self.gen["stop"]) for t in texts],
                    "prompt_hash": prompt_hash,
                    "gen_params": gen_params,
                }
            )

        rows, self.shard_stats = generate_in_shards(
            data.reset_index(drop=True),
            self.shard_dir,
            self.shard_size,
            key,
            generate,
            desc=f"openai teacher {self.model_name}",
        )
        return rows


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
