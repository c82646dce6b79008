"""Teacher backend ``hf``: any Hugging Face causal LM writes the rationales locally.

Few-shot prompt (see :mod:`.prompting`) through the model's chat template when
it has one. With an answer-first prompt the reply is prefilled with "The answer
is" (``prefill``) so even a small model states its answer first; a reason-first
prompt (the default) gets no prefill, so the reasoning comes before the answer.
Generation runs the shared few-shot prefix once and batches the questions by length
under a token budget (:mod:`.batching`); it is greedy unless ``do_sample: true`` and stops at
``max_new_tokens`` or a stop string (greedy rows leave their batch as they end). Rows are
written in resumable shards (:mod:`.shards`).
"""

from __future__ import annotations

import json
import logging
from typing import Sequence

import pandas as pd

from ..models import load_causal_lm, locate, pick_dtype
from .base import Teacher, register_backend
from .prompting import FewShotPrompt, prompt_problems
from .shards import generate_in_shards

log = logging.getLogger(__name__)

DEFAULT_STOP = ("\n\n", "Question:")
ANSWER_FIRST_PREFILL = "The answer is"


def cut_at_stop(text: str, stop: Sequence[str]) -> str:
    """``text`` up to the first stop string."""
    cut = min((i for i in (text.find(s) for s in stop) if i >= 0), default=len(text))
    return text[:cut].strip()


@register_backend("hf")
class HFTeacher(Teacher):
    """Options: ``model`` (hub id, folder or ``package:NAME``), ``revision``,
    ``gguf_file``, ``prompt`` (built-in name or YAML path), ``prefill``,
    ``max_new_tokens``, ``do_sample``, ``temperature``, ``top_p``, ``stop``,
    ``batch_size`` (most rows per batch), ``batch_tokens`` (most rows x (row + new)
    tokens per batch), ``share_prefix`` (run the few-shot prefix once per batch
    from a cache), ``shard_size``, ``seed``, ``dtype`` (auto: bf16 on GPU,
    fp32 on CPU), ``device_map`` (auto: spread over the GPUs; CPU otherwise).
    ``weights`` is set by the workflow to a converted local copy of the model.
    """

    def __init__(
        self,
        model: str,
        prompt: str,
        revision: str | None = None,
        gguf_file: str | None = None,
        prefill: str | None = None,
        max_new_tokens: int = 96,
        do_sample: bool = False,
        temperature: float = 0.7,
        top_p: float = 0.95,
        stop: Sequence[str] = DEFAULT_STOP,
        batch_size: int = 32,
        batch_tokens: int = 8192,
        share_prefix: bool = True,
        shard_size: int = 256,
        seed: int = 0,
        dtype: str = "auto",
        device_map: str | None = "auto",
        weights: str | None = None,
        trust_remote_code: bool = False,
    ):
        super().__init__(model=model, prompt=prompt)
        self.model_name, self.revision, self.gguf_file = model, revision, gguf_file
        self.prompt = FewShotPrompt.load(prompt)
        # answer-first prompts start the reply with the statement; reason-first ones start empty
        self.prefill = (
            prefill
            if prefill is not None
            else (ANSWER_FIRST_PREFILL if self.prompt.style == "answer_first" else "")
        )
        self.gen = {
            "max_new_tokens": int(max_new_tokens),
            "do_sample": bool(do_sample),
            "stop": list(stop),
            "seed": int(seed),
        }
        if do_sample:
            self.gen.update(temperature=float(temperature), top_p=float(top_p))
        self.batch_size, self.shard_size = int(batch_size), int(shard_size)
        self.batch_tokens, self.share_prefix = int(batch_tokens), bool(share_prefix)
        self.dtype, self.device_map, self.weights = dtype, device_map, weights
        self.trust_remote_code = trust_remote_code is True  # off unless the config says true
        self._model = self._tok = None

    # -- loading ---------------------------------------------------------------
    def load(self):
        """The model and tokenizer, loaded once."""
        from transformers import AutoTokenizer

        if self._model is None:
            source = {
                "model": self.model_name,
                "revision": self.revision,
                "gguf_file": self.gguf_file,
                "trust_remote_code": self.trust_remote_code,
            }
            path, kw = locate(source, self.weights)
            self._tok = AutoTokenizer.from_pretrained(path, **kw)
            self._tok.padding_side = "left"  # generation continues from the right edge
            if self._tok.pad_token is None:
                self._tok.pad_token = self._tok.eos_token
            self._model = load_causal_lm(path, self.dtype, self.device_map, **kw).eval()
        return self._model, self._tok

    @property
    def rendering(self) -> str:
        """``chat`` when the tokenizer has a chat template, else ``plain``."""
        _, tok = self.load()
        return "chat" if tok.chat_template else "plain"

    def render(self, question: str, choices: Sequence[str]) -> str:
        """One question's full prompt text, the prefill at its end."""
        _, tok = self.load()
        if tok.chat_template:
            text = tok.apply_chat_template(
                self.prompt.messages(question, choices), tokenize=False, add_generation_prompt=True
            )
            return text + self.prefill
        return self.prompt.plain_text(question, choices, self.prefill)

    @classmethod
    def option_problems(cls, options) -> list:
        """The base checks and the prompt file's."""
        return super().option_problems(options) + prompt_problems(options)

    def gen_params(self) -> dict:
        """What generation depends on (a change regenerates every shard)."""
        return {
            "backend": "hf",
            "model": self.model_name,
            "revision": self.revision,
            "gguf_file": self.gguf_file,
            "prefill": self.prefill,
            "dtype": str(pick_dtype(self.dtype)).replace("torch.", ""),
            **self.gen,
        }

    # -- generation ------------------------------------------------------------
    def generate_texts(self, prompts: list[str]) -> list[str]:
        """Continuations of ``prompts`` in input order (see :mod:`.batching`)."""
        from .batching import generate_batched

        model, tok = self.load()
        # chat templates carry their own special tokens; plain prompts get the model's BOS
        ids = tok(prompts, add_special_tokens=not tok.chat_template)["input_ids"]
        kwargs = {
            "max_new_tokens": self.gen["max_new_tokens"],
            "do_sample": self.gen["do_sample"],
            "use_cache": True,
            "stop_strings": self.gen["stop"] or None,
            "tokenizer": tok,
        }
        if self.gen["do_sample"]:
            kwargs.update(temperature=self.gen["temperature"], top_p=self.gen["top_p"])
        else:
            kwargs.update(temperature=None, top_p=None, top_k=None)  # silence sampling defaults
        return generate_batched(
            model, tok, ids, kwargs, self.batch_size, self.batch_tokens, self.share_prefix
        )

    def rationales(self, data: pd.DataFrame, split: str) -> pd.DataFrame:
        """Rationales of every row, through resumable shards."""
        import torch

        prompt_hash = self.prompt.hash(self.rendering)
        gen_params = json.dumps(self.gen_params(), sort_keys=True)
        key = {"prompt_hash": prompt_hash, "gen_params": gen_params, "split": split}

        def generate(chunk: pd.DataFrame) -> pd.DataFrame:
            # seeded per shard so a resumed run samples exactly what an uninterrupted one would
            torch.manual_seed(self.gen["seed"] + int(chunk.index[0]))
            prompts = [self.render(q, list(c)) for q, c in zip(chunk["question"], chunk["choices"])]
            texts = self.generate_texts(prompts)
            rationales = [cut_at_stop(self.prefill + t, self.gen["stop"]) for t in texts]
            return pd.DataFrame(
                {
                    "id": chunk["id"].astype(str).tolist(),
                    "rationale": rationales,
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
            desc=f"hf teacher {self.model_name}",
        )
        return rows
