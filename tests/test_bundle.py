"""The offline bundle, for real: bundle a tiny config, check its parts (a missing or
corrupt one is named and nothing starts), then unpack it in an empty folder and run it
to its summary with a fresh virtual environment that has only torch and transformers.

The wheels are this machine's Python's (the node's Python is an option; a GPU node's
default is 3.12): what is tested is that nothing beyond torch and transformers is
needed from the node, and that the node needs no network (pip runs with --no-index).
"""

import json
import shutil
import subprocess
import sys

import pytest

from cotdistill import bundle

from conftest import REPO

pytestmark = pytest.mark.e2e
CONFIG = "tests/bundle/config.yaml"


def node_python(tmp_path_factory) -> str:
    """A virtual environment with torch and transformers (the versions here) and nothing else."""
    import transformers

    env = tmp_path_factory.mktemp("node") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
    python = str(env / "bin" / "python")
    subprocess.run(
        [
            python,
            "-m",
            "pip",
            "install",
            "--quiet",
            "-c",
            str(REPO / "constraints" / "cpu.txt"),
            "torch",
            f"transformers=={transformers.__version__}",
        ],
        check=True,
    )
    assert subprocess.run([python, "-c", "import snakemake"], capture_output=True).returncode != 0
    return python


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("bundle") / "parts"
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    manifest = bundle.build([CONFIG], str(out), part_mib=25, python_version=version)
    return out, manifest


def test_the_bundle_is_split_into_checked_parts(built):
    out, manifest = built
    parts = manifest["parts"]
    assert len(parts) >= 2 and all(p["bytes"] <= 25 * 2**20 for p in parts)
    assert sum(p["bytes"] for p in parts) == manifest["archive_bytes"]
    assert json.loads((out / "manifest.json").read_text()) == manifest
    assert manifest["configfiles"] == [CONFIG] and len(manifest["commit"]) == 40
    assert (out / "unbundle.py").exists()


def test_a_missing_or_corrupt_part_is_named_and_nothing_starts(built, tmp_path):
    out, manifest = built
    bad = tmp_path / "bad"
    shutil.copytree(out, bad)
    (bad / "part-000.bin").unlink()
    data = bytearray((bad / "part-001.bin").read_bytes())
    data[100] ^= 0xFF
    (bad / "part-001.bin").write_bytes(bytes(data))
    run = subprocess.run(
        [sys.executable, str(bad / "unbundle.py"), "--dest", str(tmp_path / "run")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert run.returncode == 2
    assert "part-000.bin: missing" in run.stderr and "part-001.bin: corrupt" in run.stderr
    assert "nothing was started" in run.stderr and not (tmp_path / "run").exists()


def test_the_bundle_runs_its_config_with_only_torch_and_transformers(built, tmp_path_factory):
    out, _ = built
    python = node_python(tmp_path_factory)
    dest = tmp_path_factory.mktemp("node-run") / "run"
    run = subprocess.run(
        [python, str(out / "unbundle.py"), "--dest", str(dest), "--cores", "2"],
        capture_output=True,
        text=True,
        timeout=1200,
        cwd=dest.parent,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    results = dest / "repo" / "results-bundle-test"
    summary = (results / "summary.md").read_text()
    assert "## tiny / palm / csqa" in summary
    # the data came from the bundle, beside the unpacked repository
    assert (dest / "shared" / "data" / "commonsense_qa" / "train_rand_split.jsonl").exists()
    assert (dest / "site" / "snakemake").is_dir()
