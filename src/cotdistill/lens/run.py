"""The lens stage for one trained run: fit the tuned lens, then read every layer."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pandas as pd

from .probe import contexts, read_layers, training_states
from .readout import Readout
from .tuned import TunedLensConfig, fit_translators

log = logging.getLogger(__name__)


@dataclass
class LensConfig:
    """Lens options (``lens:``); the defaults are the schema's."""

    batch_size: int = 16
    max_length: int = 256  # training texts are cut here, as training cuts them
    tuned: TunedLensConfig | None = field(default_factory=TunedLensConfig)  # None: logit lens only
    device: str = "auto"

    @classmethod
    def from_dict(cls, d: dict | None) -> "LensConfig":
        """The lens options (``tuned: false`` for the logit lens only)."""
        d = dict(d or {})
        tuned = d.pop("tuned", {})
        cfg = cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})
        cfg.tuned = None if tuned is False else TunedLensConfig.from_dict(tuned)
        return cfg


def lens_table(
    model,
    tok,
    train_rows: pd.DataFrame,
    test: pd.DataFrame,
    predictions: pd.DataFrame,
    cfg: LensConfig,
    progress: bool = True,
) -> tuple[pd.DataFrame, dict]:
    """(rows of ``probe.read_layers``, summary for the log and provenance)."""
    model.eval().requires_grad_(False)
    readout = Readout.of(model)
    summary: dict = {"n_layers": readout.n_layers, "norm": type(readout.norm).__name__}
    translators = None
    if cfg.tuned is not None:
        rows = train_rows.sample(
            n=min(cfg.tuned.examples, len(train_rows)), random_state=cfg.tuned.seed
        )
        states = training_states(
            model,
            readout,
            tok,
            list(rows["prompt"] + rows["target"]),
            cfg.tuned,
            cfg.max_length,
            cfg.batch_size,
            progress,
        )
        translators, fit = fit_translators(readout, states.to(model.device), cfg.tuned, progress)
        summary.update(tuned_positions=int(states.shape[0]), tuned_train_kl=fit)
        log.info(
            "tuned lens: %d positions of %d training texts; training KL per layer: %s",
            states.shape[0],
            len(rows),
            " ".join(f"{v:.3f}" for v in fit),
        )
    rationale_first = bool(test["rationale_first"].iloc[0])
    ctx = contexts(test, predictions, rationale_first)
    table = read_layers(model, readout, tok, test, ctx, translators, cfg.batch_size, progress)
    kl = table.groupby(["lens", "layer"])["kl_to_final"].mean().unstack("layer")
    for name, values in kl.iterrows():
        log.info(
            "%s lens: mean KL to the final layer on test, per layer: %s",
            name,
            " ".join(f"{v:.3f}" for v in values),
        )
    summary["test_kl"] = {name: [float(v) for v in values] for name, values in kl.iterrows()}
    return table, summary
