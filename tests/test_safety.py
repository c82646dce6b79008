"""Model loading is safe by default: no repository code runs unless the config says
trust_remote_code: true, and weights load from safetensors over pickles."""

import json

import torch
from transformers import GPT2Config, GPT2LMHeadModel

from cotdistill.models import load_causal_lm, locate, source_kwargs

CUSTOM = """
import pathlib
from transformers import GPT2LMHeadModel
pathlib.Path(SENTINEL).write_text("yes")  # transformers runs a copy, elsewhere


class CustomLM(GPT2LMHeadModel):
    pass
"""


def tiny_folder(path):
    GPT2LMHeadModel(GPT2Config(n_layer=1, n_head=2, n_embd=8, vocab_size=50)).save_pretrained(path)
    return path


def test_repository_code_runs_only_when_the_config_says_so(tmp_path):
    folder = tiny_folder(tmp_path / "m")
    config = json.loads((folder / "config.json").read_text())
    config["auto_map"] = {"AutoModelForCausalLM": "modeling_custom.CustomLM"}
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "modeling_custom.py").write_text(
        CUSTOM.replace("SENTINEL", repr(str(folder / "code_ran")))
    )

    path, kw = locate({"model": str(folder)})
    assert "trust_remote_code" not in kw
    model = load_causal_lm(path, "float32", **kw)
    assert type(model).__name__ == "GPT2LMHeadModel" and not (folder / "code_ran").exists()

    path, kw = locate({"model": str(folder), "trust_remote_code": True})
    model = load_causal_lm(path, "float32", **kw)
    assert type(model).__name__ == "CustomLM" and (folder / "code_ran").exists()
    assert source_kwargs({"model": "x", "trust_remote_code": "yes"}) == {}  # only a real true


def test_weights_load_from_safetensors_when_a_pickle_sits_beside_them(tmp_path):
    folder = tiny_folder(tmp_path / "m")
    assert (folder / "model.safetensors").exists()
    (folder / "pytorch_model.bin").write_bytes(b"not a pickle: loading it would fail")
    model = load_causal_lm(str(folder), "float32")
    reference = GPT2LMHeadModel.from_pretrained(folder, use_safetensors=True)
    assert all(
        torch.equal(a, b)
        for a, b in zip(model.state_dict().values(), reference.state_dict().values())
    )
