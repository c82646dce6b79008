"""Training checkpoints: written atomically, read back only if they belong to this run.

A checkpoint holds what an interrupted run needs to continue exactly where it
stopped: the trainable weights (frozen ones reload from the base), optimizer and
scheduler state, the step, the log so far and the random number generators. Its
``fingerprint`` ties it to one (data, settings, seed, base model): a checkpoint
left by anything else is ignored, never resumed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
from pathlib import Path
from typing import Any, Mapping, Sequence

import torch

from .errors import saving

log = logging.getLogger(__name__)
FILE = "checkpoint.pt"


def fingerprint(
    prompts: Sequence[str], targets: Sequence[str], settings: Mapping, seed: int
) -> str:
    """Hash of what determines a run: its examples, training settings and seed."""
    h = hashlib.sha256(
        json.dumps({"settings": dict(settings), "seed": seed}, sort_keys=True, default=str).encode()
    )
    for p, t in zip(prompts, targets):
        h.update(p.encode())
        h.update(b"\0")
        h.update(t.encode())
        h.update(b"\1")
    return h.hexdigest()


def trainable_state(model) -> dict[str, torch.Tensor]:
    """A copy of the parameters that train (all, or a LoRA run's adapters)."""
    return {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}


def rng_state() -> dict[str, Any]:
    """Python's, torch's and (when present) CUDA's random states."""
    state = {"python": random.getstate(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: Mapping[str, Any]) -> None:
    """Restore what :func:`rng_state` recorded."""
    random.setstate(state["python"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save(directory: str | Path, state: Mapping[str, Any]) -> Path:
    """Write ``state`` to DIR/checkpoint.pt; a kill mid-write leaves the previous one whole."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path, tmp = directory / FILE, directory / (FILE + ".tmp")
    with saving(tmp):
        torch.save(dict(state), tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
    os.replace(tmp, path)  # atomic on one filesystem
    return path


def load(directory: str | Path | None, expected_fingerprint: str) -> dict[str, Any] | None:
    """The checkpoint in ``directory`` if it was written by this very run, else None."""
    if directory is None:
        return None
    path = Path(directory) / FILE
    if not path.exists():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as e:  # a damaged file is not worth a failed job: start over
        log.warning("ignoring unreadable checkpoint %s (%s)", path, e)
        return None
    if state.get("fingerprint") != expected_fingerprint:
        log.warning(
            "ignoring checkpoint %s: it was written for other data, settings, seed or base model",
            path,
        )
        return None
    return state


def remove(directory: str | Path | None) -> None:
    """Delete a finished run's checkpoint (and its folder if that leaves it empty)."""
    if directory is None:
        return
    directory = Path(directory)
    for name in (FILE, FILE + ".tmp"):
        (directory / name).unlink(missing_ok=True)
    try:
        directory.rmdir()
    except OSError:
        pass
