"""Few-shot teacher prompts: load a prompt file, render it as chat turns or plain text.

A prompt file (YAML) has an ``instruction``, ``examples`` of
``{question, choices, answer, rationale}`` and a ``style``: ``reason_first`` (the
reply reasons, then states the answer: the built-in default, so a rationale placed
before the label really comes before it) or ``answer_first`` ("The answer is X
because ...": the ``*_answer_first`` built-ins). Built-in files live in
``teachers/prompts/`` and are named by their stem (``prompt: commonsense_qa``);
any other value is a path. The prompt hash covers the file's content and the
way it is rendered, so a changed prompt never reuses old shards.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import yaml

from ..errors import ConfigError, InputError
from ..formats import question_block

BUILTIN_DIR = Path(__file__).parent / "prompts"
STYLES = ("reason_first", "answer_first")


def builtin_prompts() -> list[str]:
    """Names of the built-in prompt files."""
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.yaml"))


def prompt_path(name_or_path: str) -> Path:
    """The file of a built-in prompt name, or the path given."""
    builtin = BUILTIN_DIR / f"{name_or_path}.yaml"
    if builtin.exists():
        return builtin
    path = Path(name_or_path)
    if not path.exists():
        raise ConfigError(
            "teachers.*.prompt",
            f"no prompt file '{name_or_path}'",
            f"use a built-in prompt {builtin_prompts()} or the path of a YAML file",
        )
    return path


@dataclass(frozen=True)
class FewShotPrompt:
    """A few-shot prompt file: instruction, worked examples and reply style."""

    instruction: str
    examples: tuple[dict, ...]
    source: str
    style: str = "reason_first"

    @classmethod
    def load(cls, name_or_path: str) -> "FewShotPrompt":
        """A prompt file, checked: its instruction, worked examples and style."""
        path = prompt_path(name_or_path)
        doc = yaml.safe_load(path.read_text()) or {}
        if not isinstance(doc.get("instruction"), str):
            raise InputError(
                str(path),
                None,
                "no 'instruction' text",
                "add 'instruction: ...' to the prompt file",
            )
        examples = doc.get("examples") or []
        for i, ex in enumerate(examples, start=1):
            missing = [k for k in ("question", "choices", "rationale") if k not in ex]
            if missing:
                raise InputError(
                    str(path),
                    i,
                    f"worked example lacks {missing}",
                    "give each example question, choices, answer and rationale",
                )
        style = doc.get("style", "reason_first")
        if style not in STYLES:
            raise InputError(
                str(path),
                None,
                f"style '{style}' is unknown",
                f"set style: to one of {list(STYLES)}",
            )
        return cls(doc["instruction"].strip(), tuple(examples), str(path), style)

    def messages(self, question: str, choices: Sequence[str]) -> list[dict]:
        """Chat turns: the instruction opens the first user turn; examples are turn pairs."""
        msgs = []
        for i, ex in enumerate(self.examples):
            q = question_block(ex["question"], ex["choices"])
            msgs.append({"role": "user", "content": f"{self.instruction}\n\n{q}" if i == 0 else q})
            msgs.append({"role": "assistant", "content": ex["rationale"].strip()})
        q = question_block(question, choices)
        msgs.append(
            {"role": "user", "content": q if self.examples else f"{self.instruction}\n\n{q}"}
        )
        return msgs

    def plain_text(self, question: str, choices: Sequence[str], prefill: str = "") -> str:
        """The same prompt for models without a chat template."""
        parts = [self.instruction]
        for ex in self.examples:
            parts.append(
                f"{question_block(ex['question'], ex['choices'])}\nReply: {ex['rationale'].strip()}"
            )
        parts.append(f"{question_block(question, choices)}\nReply: {prefill}".rstrip())
        return "\n\n".join(parts)

    def hash(self, rendering: str) -> str:
        """Content hash of the prompt plus how it is rendered (chat template or plain)."""
        body = json.dumps(
            {
                "instruction": self.instruction,
                "examples": list(self.examples),
                "rendering": rendering,
            },
            sort_keys=True,
        )
        return hashlib.sha256(body.encode()).hexdigest()[:16]


def prompt_problems(options) -> list[tuple[str, str, str]]:
    """Config check for a backend's ``prompt`` option (for ``option_problems``)."""
    if "prompt" not in options:
        return []
    try:
        FewShotPrompt.load(str(options["prompt"]))
    except InputError as e:
        return [("prompt", f"{e.path}: {e.problem}", e.fix)]
    except ConfigError as e:
        return [("prompt", e.problem, e.fix)]
    return []
