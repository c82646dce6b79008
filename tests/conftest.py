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
        raise RuntimeError(f"real data not found at {SHARED_DATA}: put shared/ beside the "
                           "repository or set COTDISTILL_SHARED_DATA")
    return SHARED_DATA
