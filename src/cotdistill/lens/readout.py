"""The model's own output head applied to its residual stream (the logit lens).

A decoder-only causal LM computes ``logits = unembed(final_norm(h_L))``, where
``h_L`` is the residual stream after the last block. The logit lens applies the
same ``unembed(final_norm(.))`` to ``h_l`` for every ``l`` from the embeddings
(``l = 0``) through the last block (``l = L``), so at ``l = L`` it reproduces the
model's logits.

The parts are found through the model's own accessors, not a table of module
names per architecture:

- the unembedding is ``model.get_output_embeddings()``;
- the blocks are the ``ModuleList`` child of ``model.get_decoder()`` holding
  ``num_hidden_layers`` modules;
- the final norm is the decoder's child registered after the blocks whose
  parameters are all vectors of the hidden size (GPT-2's ``ln_f``, Llama's and
  Mistral's ``norm``, Phi's ``final_layernorm``, Gemma's ``(1 + w)`` RMSNorm).

Gemma-2 style ``final_logit_softcapping`` is applied when the config sets it.
The lens stage checks every batch against the model's own logits, so an
architecture that breaks these rules fails loudly instead of reading garbage.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator

import torch
from torch import nn


class LensError(ValueError):
    """The model does not have the parts a logit lens needs."""


def _decoder(model: nn.Module) -> nn.Module:
    get = getattr(model, "get_decoder", None)
    decoder = get() if callable(get) else None
    return decoder if decoder is not None else model.base_model


def _text_config(model: nn.Module):
    config = model.config
    return config.get_text_config() if hasattr(config, "get_text_config") else config


@dataclass
class Readout:
    """The blocks, final norm and unembedding of one causal LM."""

    blocks: nn.ModuleList
    norm: nn.Module
    unembed: nn.Module
    softcap: float | None = None

    @classmethod
    def of(cls, model: nn.Module) -> "Readout":
        """The readout of a decoder-only model: its blocks, final norm and unembedding."""
        config = _text_config(model)
        n_layers = int(config.num_hidden_layers)
        hidden = int(config.hidden_size)
        decoder = _decoder(model)
        children = list(decoder.named_children())
        lists = [
            i
            for i, (_, c) in enumerate(children)
            if isinstance(c, nn.ModuleList) and len(c) == n_layers
        ]
        if len(lists) != 1:
            raise LensError(
                f"{type(model).__name__}: expected one list of {n_layers} blocks in "
                f"{type(decoder).__name__}, found {len(lists)}"
            )
        norms = [
            c
            for _, c in children[lists[0] + 1 :]
            if any(True for _ in c.parameters())
            and all(p.ndim == 1 and p.shape[0] == hidden for p in c.parameters())
        ]
        if len(norms) != 1:
            raise LensError(
                f"{type(model).__name__}: expected one final norm after the blocks of "
                f"{type(decoder).__name__}, found {len(norms)}; the logit lens "
                "needs a model that normalises before its unembedding"
            )
        unembed = model.get_output_embeddings()
        if unembed is None:
            raise LensError(f"{type(model).__name__} has no output embeddings (not a causal LM?)")
        return cls(
            children[lists[0]][1],
            norms[0],
            unembed,
            getattr(config, "final_logit_softcapping", None),
        )

    @property
    def n_layers(self) -> int:
        """Transformer blocks (L): readouts are at layers 0..L."""
        return len(self.blocks)

    def logits(self, h: torch.Tensor) -> torch.Tensor:
        """(..., hidden) residual states -> (..., vocab) logits, in float32."""
        z = self.unembed(self.norm(h)).float()
        if self.softcap:
            z = self.softcap * torch.tanh(z / self.softcap)
        return z

    @contextmanager
    def capture(self, pick: Callable[[torch.Tensor], torch.Tensor]) -> Iterator[list]:
        """Record ``pick(h_l)`` for l = 0..L during the forward passes inside the block.

        ``h_0`` is the input of the first block (the embeddings, position
        embeddings included), ``h_l`` the output of block ``l``. ``pick`` maps a
        (batch, seq, hidden) state to what is kept, e.g. one position per row.
        The yielded list holds the L + 1 picks of the last forward pass.
        """
        states: list = [None] * (self.n_layers + 1)

        def first(_module, args, kwargs):
            h = args[0] if args else kwargs["hidden_states"]
            states[0] = pick(h)

        def after(i):
            def hook(_module, _args, output):
                states[i] = pick(output[0] if isinstance(output, tuple) else output)

            return hook

        handles = [self.blocks[0].register_forward_pre_hook(first, with_kwargs=True)]
        handles += [b.register_forward_hook(after(i + 1)) for i, b in enumerate(self.blocks)]
        try:
            yield states
        finally:
            for h in handles:
                h.remove()


def tolerance(dtype: torch.dtype) -> float:
    """Largest |readout - model logits| accepted at the last layer, relative to the
    logits' scale: float32 reproduces the head up to rounding; 16-bit types keep
    about 3 significant digits."""
    return 1e-4 if dtype == torch.float32 else 2e-2
