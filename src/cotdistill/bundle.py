"""An offline bundle: one config, ready to run on a node with no network.

``python -m cotdistill.bundle build --configfile X.yaml`` writes, into one folder:

* ``part-NNN.bin``: one tar archive cut into parts of at most ``--part-mib`` MiB
  (transfers to such nodes are often limited in size), holding the repository's
  tracked files (``repo/``), every data and rationale file the config reads (at
  the same place relative to ``repo/`` as here, so ``../shared/data/...`` paths
  resolve), and wheels of every Python package the workflow needs beyond torch
  and transformers, for the node's Python version and platform (``wheels/``),
  including the packages that ship models (``package:NAME`` sources);
* ``manifest.json``: each part's size and sha256, and the archive's;
* ``unbundle.py``: the node command (standard library only). It checks every
  part against the manifest and names a missing or corrupt one before anything
  starts, reassembles and unpacks the archive, installs the wheels into a private
  virtual environment that sees the node's own torch and transformers, and runs
  the config with Snakemake.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Iterable, Sequence

from .errors import ConfigError

log = logging.getLogger(__name__)
REPO = Path(__file__).resolve().parents[2]
MIB = 1 << 20
DEFAULT_PYTHON, DEFAULT_PLATFORM = "3.12", "manylinux_2_28_x86_64"  # glibc 2.28 or later
# what the node brings: not bundled, and neither are their own dependencies
NODE_PACKAGES = ("torch", "transformers")


def config_paths(configs: Sequence[str]) -> tuple[dict, list[Path]]:
    """(the merged config, every local file it reads: dataset splits, rationale files)."""
    from .config import dataset_split_files, load_yaml, merge_configs, teacher_split_files, units

    config = merge_configs(load_yaml(REPO / path) for path in configs)
    files = []
    for t, d in units(config):
        for split in ("train", "test"):
            files += dataset_split_files(config, d, split) + teacher_split_files(
                config, t, d, split
            )
    out = []
    for f in dict.fromkeys(files):  # relative to the repository root, as Snakemake reads them
        p = Path(f)
        if p.is_absolute():
            raise ConfigError(
                "files",
                f"'{f}' is an absolute path, which the node cannot have",
                "give data files relative to the repository (e.g. ../shared/data/...)",
            )
        if not (REPO / p).exists():
            raise ConfigError(
                "files",
                f"'{f}' does not exist beside the repository",
                "correct the path (relative to the repository root)",
            )
        out.append(p)
    return config, out


def model_packages(config: dict) -> list[str]:
    """PyPI names of the packages that ship a config's models (``package:NAME`` sources)."""
    from .models import PACKAGE_PREFIX

    names = []
    for owner in ("students", "teachers", "attribution"):
        for entry in (config.get(owner) or {}).values():
            for spec in (entry or {}, (entry or {}).get("model") or {}):
                model = spec.get("model") if isinstance(spec, dict) else None
                if isinstance(model, str) and model.startswith(PACKAGE_PREFIX):
                    names.append(_pinned(model[len(PACKAGE_PREFIX) :].replace("_", "-")))
    return list(dict.fromkeys(names))


def _pinned(name: str) -> str:
    """``name==version`` of the installed package (the model this machine tested), or name."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{name}=={version(name)}"
    except PackageNotFoundError:
        return name


def _pip(*args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "pip", *args]
    log.debug("%s", " ".join(cmd))
    return subprocess.run(cmd, capture_output=True, text=True)


def _target(python_version: str, platform: str) -> list[str]:
    """pip options that pick wheels for the node's Python and platform: a
    manylinux_2_N platform also takes the older manylinux tags it runs."""
    import re

    platforms = [platform]
    m = re.fullmatch(r"manylinux_2_(\d+)_(\w+)", platform)
    if m:
        platforms += [f"manylinux_2_{v}_{m[2]}" for v in range(int(m[1]) - 1, 4, -1)]
        platforms += [f"manylinux2014_{m[2]}", f"manylinux2010_{m[2]}", f"manylinux1_{m[2]}"]
    return [
        "--python-version",
        python_version,
        "--implementation",
        "cp",
        *[a for p in dict.fromkeys(platforms) for a in ("--platform", p)],
    ]


def resolve(requirements: Sequence[str], constraints: str | None = None) -> dict[str, str]:
    """{name: version} that pip resolves for ``requirements`` (source archives allowed,
    so packages published only as sdists are found; markers are this Python's)."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        args = [
            "install",
            "--dry-run",
            "--ignore-installed",
            "--quiet",
            "--report",
            str(report),
            *requirements,
        ] + (["-c", constraints] if constraints else [])
        run = _pip(*args)
        if run.returncode != 0:
            raise RuntimeError(f"pip could not resolve {list(requirements)}:\n{run.stderr[-2000:]}")
        items = json.loads(report.read_text())["install"]
    return {_name(i["metadata"]["name"]): i["metadata"]["version"] for i in items}


def project_requirements() -> list[str]:
    """The workflow's dependencies (pyproject's, with the real-model extra)."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    meta = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return list(meta["dependencies"]) + list(meta["optional-dependencies"]["real"])


def _name(requirement: str) -> str:
    import re

    name = re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0].strip()
    return re.sub(r"[-_.]+", "-", name).lower()


def fetch_wheel(pin: str, dest: Path, python_version: str, platform: str) -> None:
    """The wheel of ``name==version`` for the node: downloaded, or built here from its
    source archive when it has none (pure-Python packages only)."""
    run = _pip(
        "download",
        "--no-deps",
        "--only-binary=:all:",
        *_target(python_version, platform),
        "--dest",
        str(dest),
        "--quiet",
        pin,
    )
    if run.returncode == 0:
        return
    # published as a source archive only: build its wheel here, which suits the node
    # only when it is pure Python
    before = set(dest.glob("*.whl"))
    run = _pip("wheel", "--no-deps", "--wheel-dir", str(dest), "--quiet", pin)
    if run.returncode != 0:
        raise RuntimeError(
            f"{pin}: no wheel for Python {python_version} on {platform}, and "
            f"building one here failed:\n{run.stderr[-1500:]}"
        )
    for wheel in sorted(set(dest.glob("*.whl")) - before):
        if not wheel.name.endswith("-none-any.whl"):
            raise RuntimeError(
                f"{pin}: built {wheel.name} here, which is for this machine, not "
                f"the node: build that wheel on the node's platform"
            )


def download_wheels(
    dest: Path,
    python_version: str,
    platform: str,
    extra: Sequence[str] = (),
    node_packages: Sequence[str] = NODE_PACKAGES,
    constraints: str | None = str(REPO / "constraints" / "cpu.txt"),
) -> list[Path]:
    """Wheels of the workflow's dependencies and theirs, minus what the node brings
    (``node_packages`` and everything they need), plus ``extra`` packages without their
    dependencies (the packages that ship models). Wheels already in ``dest`` are kept."""
    dest.mkdir(parents=True, exist_ok=True)
    wanted = resolve(project_requirements(), constraints)
    node = resolve(list(node_packages), constraints)
    pins = [f"{n}=={v}" for n, v in sorted(wanted.items()) if n not in node]
    pins += [p for p in extra if _name(p) not in wanted]
    for pin in pins:
        if "==" not in pin or not _wheels_of(dest, pin):
            fetch_wheel(pin, dest, python_version, platform)
    log.info(
        "%d wheels for Python %s on %s (%d packages left to the node)",
        len(pins),
        python_version,
        platform,
        len(node),
    )
    # a kept folder may hold wheels of other builds: only this build's pins
    return sorted({w for pin in pins for w in _wheels_of(dest, pin)})


def _wheels_of(folder: Path, pin: str) -> list[Path]:
    """Wheels in ``folder`` of ``name==version`` (or of any version of a bare name)."""
    name, _, version = pin.partition("==")
    return [
        w
        for w in folder.glob("*.whl")
        if _name(w.name.split("-")[0]) == _name(name)
        and (not version or w.name.split("-")[1] == version)
    ]


def tracked_files(repo: Path = REPO) -> list[str]:
    """The files git tracks in ``repo`` (what a bundle ships of the code)."""
    out = subprocess.run(["git", "ls-files", "-z"], cwd=repo, capture_output=True, check=True)
    return [f for f in out.stdout.decode().split("\0") if f and (repo / f).is_file()]


def sha256(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(MIB):
            h.update(block)
    return h.hexdigest()


def write_archive(
    archive: Path,
    repo: Path,
    data_files: Iterable[Path],
    wheels: Iterable[Path],
    info: dict,
    configs: Sequence[str] = (),
) -> None:
    """The tar the parts are cut from: repo/ (its tracked files and the configs, tracked
    or not), the data files beside it, wheels/."""
    root = repo.resolve()
    with tarfile.open(archive, "w") as tar:
        for f in dict.fromkeys(tracked_files(repo) + [str(Path(c)) for c in configs]):
            tar.add(repo / f, arcname=f"repo/{f}")
        for f in data_files:
            rel = os.path.relpath((root / f).resolve(), root.parent)  # e.g. shared/data/x.jsonl
            if rel.startswith(".."):
                raise ConfigError(
                    "files",
                    f"'{f}' lies more than one folder above the repository",
                    "keep data beside the repository (../shared/data/...)",
                )
            tar.add(root / f, arcname=rel)
        for w in wheels:
            tar.add(w, arcname=f"wheels/{w.name}")
        blob = json.dumps(info, indent=2).encode()
        entry = tarfile.TarInfo("bundle.json")
        entry.size = len(blob)
        import io

        tar.addfile(entry, io.BytesIO(blob))


def split(archive: Path, out: Path, part_mib: float) -> list[dict]:
    """Cut ``archive`` into parts of at most ``part_mib`` MiB; their names, sizes, sha256."""
    size = int(part_mib * MIB)
    parts = []
    with open(archive, "rb") as f:
        while chunk := f.read(size):
            name = f"part-{len(parts):03d}.bin"
            (out / name).write_bytes(chunk)
            parts.append(
                {"name": name, "bytes": len(chunk), "sha256": hashlib.sha256(chunk).hexdigest()}
            )
    return parts


def build(
    configs: Sequence[str],
    out: str,
    part_mib: float = 60,
    python_version: str = DEFAULT_PYTHON,
    platform: str = DEFAULT_PLATFORM,
    wheel_dir: str | None = None,
    node_packages: Sequence[str] = NODE_PACKAGES,
) -> dict:
    """Write the bundle of ``configs`` (paths relative to the repository root) into
    ``out``; returns its manifest. ``wheel_dir``: a folder that keeps the wheels between
    builds of one Python version and platform; ``node_packages``: what the node already
    has (torch and transformers at least), not bundled with what they need."""
    config, data_files = config_paths(configs)
    out_dir = Path(out)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise ConfigError("--out", f"'{out}' is not empty", "give an empty or new folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        wheels_at = Path(wheel_dir) if wheel_dir else Path(tmp) / "wheels"
        wheels = download_wheels(
            wheels_at,
            python_version,
            platform,
            extra=model_packages(config),
            node_packages=node_packages,
        )
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
        info = {
            "configfiles": [str(Path(c)) for c in configs],
            "python_version": python_version,
            "platform": platform,
            "commit": commit,
            "node_packages": list(NODE_PACKAGES),
            "wheels": [w.name for w in wheels],
            "data_files": [str(f) for f in data_files],
        }
        archive = Path(tmp) / "bundle.tar"
        write_archive(archive, REPO, data_files, wheels, info, configs)
        parts = split(archive, out_dir, part_mib)
        manifest = {
            "archive_sha256": sha256(archive),
            "archive_bytes": archive.stat().st_size,
            "part_mib": part_mib,
            "parts": parts,
            **{k: info[k] for k in ("configfiles", "python_version", "platform", "commit")},
        }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    shutil.copy(Path(__file__).with_name("unbundle.py"), out_dir / "unbundle.py")
    log.info(
        "bundle: %d parts, %.1f MiB in all, in %s",
        len(parts),
        manifest["archive_bytes"] / MIB,
        out_dir,
    )
    return manifest


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m cotdistill.bundle build``: the command line of :func:`build`."""
    parser = argparse.ArgumentParser(
        prog="python -m cotdistill.bundle", description="Write an offline bundle of a config."
    )
    parser.add_argument("command", choices=["build"])
    parser.add_argument("--configfile", nargs="+", required=True)
    parser.add_argument("--out", required=True, help="an empty or new folder")
    parser.add_argument("--part-mib", type=float, default=60)
    parser.add_argument("--python-version", default=DEFAULT_PYTHON)
    parser.add_argument("--platform", default=DEFAULT_PLATFORM)
    parser.add_argument(
        "--node-packages",
        nargs="+",
        default=list(NODE_PACKAGES),
        help="what the node already has (default: torch transformers)",
    )
    parser.add_argument("--wheel-dir", help="keep downloaded wheels here between builds")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        manifest = build(
            args.configfile,
            args.out,
            args.part_mib,
            args.python_version,
            args.platform,
            args.wheel_dir,
            args.node_packages,
        )
    except ConfigError as e:
        print(f"bundle: {e}", file=sys.stderr)
        return 2
    sizes = ", ".join(f"{p['bytes'] / MIB:.1f}" for p in manifest["parts"])
    print(
        f"{len(manifest['parts'])} parts ({sizes} MiB), {manifest['archive_bytes'] / MIB:.1f} "
        f"MiB in all, in {args.out}. On the node: python3 unbundle.py --cores all"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
