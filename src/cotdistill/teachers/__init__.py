"""Teachers write a rationale per question behind one interface.

A backend implements :class:`~cotdistill.teachers.base.Teacher`; the registry
below maps config ``backend`` names to classes. Every backend's output goes
through :func:`~cotdistill.teachers.base.finalise` so all rationale tables
share one schema: ``id, rationale, teacher_answer, teacher_correct,
prompt_hash, gen_params`` (+ optional ``key_word_idx``).
"""

from .base import Teacher, finalise, make_teacher, register_backend, run_teacher
from .answers import parse_stated_answer
from . import rule_based, precomputed, hf, openai_compat  # noqa: F401  (registers the backends)

__all__ = [
    "Teacher",
    "finalise",
    "make_teacher",
    "register_backend",
    "run_teacher",
    "parse_stated_answer",
]
