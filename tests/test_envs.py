"""Every rule's conda environment provides what its job imports.

Conda cannot run here, so the real workflow runs with an import guard
(tests/env_guard/sitecustomize.py): each job may import, from its own script
and from cotdistill, only the third-party modules its rule's env file lists."""

import json
import os
import re
import subprocess
import sys

import pytest
import yaml

from conftest import REPO

pytestmark = pytest.mark.e2e

# conda package name -> the module it provides, where they differ
MODULE_OF = {"pytorch": "torch", "pyyaml": "yaml", "python": None}


def rule_envs() -> dict[str, list[str]]:
    """{script file name: [modules its rule's conda environment provides]}."""
    out = {}
    for smk in (REPO / "workflow/rules").glob("*.smk"):
        for block in re.split(r"\nrule ", smk.read_text()):
            env = re.search(r'conda:\s*"\.\./\.\./envs/([\w.-]+)"', block)
            script = re.search(r'script:\s*"\.\./scripts/([\w.-]+)"', block)
            if env and script:
                spec = yaml.safe_load((REPO / "envs" / env[1]).read_text())
                names = [
                    re.split(r"[<>=!\s]", d)[0] for d in spec["dependencies"] if isinstance(d, str)
                ]
                out[script[1]] = sorted(
                    m for m in (MODULE_OF.get(n, n.replace("-", "_")) for n in names) if m
                )
    return out


def guarded_env(tmp_path, envs) -> dict:
    path = tmp_path / "envs.json"
    path.write_text(json.dumps(envs))
    return {
        **os.environ,
        "COTDISTILL_ENV_GUARD": str(path),
        "PYTHONPATH": os.pathsep.join(
            [str(REPO / "tests/env_guard"), os.environ.get("PYTHONPATH", "")]
        ),
    }


def test_every_script_has_an_environment():
    envs = rule_envs()
    scripts = {p.name for p in (REPO / "workflow/scripts").glob("*.py")}
    assert set(envs) == scripts
    assert "torch" not in envs["make_data.py"] and "torch" not in envs["make_conditions.py"]


def test_the_guard_stops_an_import_the_environment_lacks(tmp_path):
    envs = rule_envs()
    envs["aggregate_results.py"] = [m for m in envs["aggregate_results.py"] if m != "numpy"]
    script = tmp_path / "tmpabc123.aggregate_results.py"  # as Snakemake names its copies
    script.write_text(
        f"import sys; sys.path.insert(0, {str(REPO / 'src')!r})\nimport cotdistill.stats\n"
    )
    run = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        env=guarded_env(tmp_path, envs),
    )
    assert run.returncode != 0
    assert "aggregate_results.py imports 'numpy' (from cotdistill.stats)" in run.stderr


def test_the_workflow_runs_with_each_job_limited_to_its_environment(tmp_path):
    from test_workflow import SMALL

    config = {
        **SMALL,
        "training": {"max_steps": 4, "batch_size": 8},
        "lens": {"tuned": {"steps": 4, "examples": 16}},
    }
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(tmp_path),
        "--configfile",
        str(tmp_path / "config.yaml"),
        "--cores",
        "2",
    ]
    run = subprocess.run(
        cmd, capture_output=True, text=True, timeout=900, env=guarded_env(tmp_path, rule_envs())
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert (tmp_path / "results/summary.md").exists()
