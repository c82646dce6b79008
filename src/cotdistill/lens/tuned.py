"""The tuned lens (Belrose et al., 2023): one affine translator per layer.

Layer ``l``'s state is translated to ``h + A_l h + b_l`` before the model's own
final norm and unembedding, with ``A_l`` and ``b_l`` trained so the readout
matches the last layer's distribution: the loss is ``KL(p_L || q_l)`` over
positions of the run's own training texts. Translators start at zero, i.e. as
the logit lens, so training can only move away from it where that lowers the
loss. The last layer needs no translator: its readout is the model's output.

Written here rather than taken from the ``tuned-lens`` package because that
package (0.2.0) finds the final norm through a per-architecture table that does
not cover Mistral, Phi or Gemma, and pulls wandb and torchdata with it.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import torch
from torch import nn
from tqdm.auto import tqdm

from .readout import Readout

log = logging.getLogger(__name__)


@dataclass
class TunedLensConfig:
    """Tuned-lens options (``lens: {tuned: ...}``); the defaults are the schema's."""

    examples: int = 256  # training texts read (the run's own training rows)
    max_positions: int = 8192  # token positions kept from them, drawn at random
    steps: int = 200  # optimiser steps
    batch_positions: int = 128  # positions per step
    lr: float = 1e-3  # Adam
    weight_decay: float = 0.0
    seed: int = 0

    @classmethod
    def from_dict(cls, d: dict | None) -> "TunedLensConfig":
        """The tuned-lens options of a config section; other keys are ignored."""
        return cls(**{k: v for k, v in (d or {}).items() if k in cls.__dataclass_fields__})


class Translators(nn.Module):
    """``n_layers`` affine maps of the residual stream, initialised to the identity."""

    def __init__(self, n_layers: int, hidden: int):
        super().__init__()
        self.maps = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(n_layers))
        for m in self.maps:
            nn.init.zeros_(m.weight)
            nn.init.zeros_(m.bias)

    def forward(self, h: torch.Tensor, layer: int) -> torch.Tensor:
        """(..., hidden) state of ``layer`` -> (..., hidden); the last layer passes through."""
        if layer >= len(self.maps):
            return h
        return h + self.maps[layer](h)


def kl_to_final(final_logits: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """KL(p_final || q) in nats per row; both (..., vocab)."""
    logp = torch.log_softmax(final_logits.float(), dim=-1)
    logq = torch.log_softmax(logits.float(), dim=-1)
    return (logp.exp() * (logp - logq)).sum(-1)


def fit_translators(
    readout: Readout, states: torch.Tensor, cfg: TunedLensConfig, progress: bool = True
) -> tuple[Translators, list[float]]:
    """Train translators on a bank of residual states.

    ``states``: (positions, L + 1, hidden), one row per token position of the
    training texts, layers 0..L. Returns the translators (float32, on the
    states' device) and each layer's mean KL to the final layer on the last
    quarter of the steps (the training fit, for the log).
    """
    n, n_states, hidden = states.shape
    n_layers = n_states - 1
    lens = Translators(n_layers, hidden).to(states.device)
    opt = torch.optim.Adam(lens.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    gen = torch.Generator().manual_seed(cfg.seed)
    tail = max(1, cfg.steps // 4)
    fit = torch.zeros(n_layers)
    for step in tqdm(range(cfg.steps), desc="tuned lens", disable=not progress, mininterval=2.0):
        idx = torch.randint(n, (min(cfg.batch_positions, n),), generator=gen).to(states.device)
        batch = states[idx].float()  # (batch, L + 1, hidden)
        with torch.no_grad():
            target = readout.logits(batch[:, -1].to(_dtype(readout)))  # (batch, vocab)
        opt.zero_grad(set_to_none=True)
        for layer in range(n_layers):  # one backward per layer keeps one (batch, vocab) alive
            h = lens(batch[:, layer], layer).to(_dtype(readout))
            loss = kl_to_final(target, readout.logits(h)).mean()
            loss.backward()
            if step >= cfg.steps - tail:
                fit[layer] += loss.item() / tail
        opt.step()
    for layer, value in enumerate(fit.tolist()):
        if not math.isfinite(value):
            raise FloatingPointError(
                f"tuned lens: layer {layer} diverged (KL {value}); lower lens.tuned.lr"
            )
    return lens.eval(), fit.tolist()


def _dtype(readout: Readout) -> torch.dtype:
    return next(readout.unembed.parameters()).dtype
