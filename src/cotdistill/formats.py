"""How a question, an answer and a rationale are written as text.

One module, read by the teachers' prompts, the students' training targets and test
prompts, the attribution layout and the lens readout: a student is evaluated on the
very question format its teacher was shown, and a target's marks are the ones the
readout and the attributor look for.

    Question: <question>
    Choices: (A) <choice> (B) <choice> ...
    Answer: <letter>            (the label)
    Reason: <rationale>         (after the label, or before it)
"""

from __future__ import annotations

from typing import Sequence

from .data.schema import letters

ANSWER_MARK = "Answer:"
REASON_MARK = "Reason:"


def question_block(question: str, choices: Sequence[str]) -> str:
    """``Question: ...\\nChoices: (A) ... (B) ...``, with no trailing newline."""
    opts = " ".join(f"({letter}) {c}" for letter, c in zip(letters(len(choices)), choices))
    return f"Question: {question}\nChoices: {opts}"


def student_prompt(question: str, choices: Sequence[str]) -> str:
    """A student's prompt: the question block and a newline, where its target begins."""
    return question_block(question, choices) + "\n"


def answer(label: str) -> str:
    """The label statement, ``Answer: B``."""
    return f"{ANSWER_MARK} {label}"


def after(label: str, text: str) -> str:
    """A target with the rationale after the label."""
    return f"{answer(label)}\n{REASON_MARK} {text}"


def before(label: str, text: str) -> str:
    """A target with the rationale before the label."""
    return f"{REASON_MARK} {text}\n{answer(label)}"


def rationale_part(target: str) -> str | None:
    """What a target holds besides its answer statement (None: the label alone)."""
    if REASON_MARK not in target:
        return None
    reason = target.split(REASON_MARK, 1)[1]
    cut = reason.rfind("\n" + ANSWER_MARK)  # rationale first: the answer closes it
    return (reason[:cut] if cut >= 0 else reason).strip()
