"""Run an offline bundle on a node with Python, torch and transformers and no network.

    python3 unbundle.py [--dest DIR] [--cores N] [--check-only] [-- SNAKEMAKE ARGS...]

Run from the folder holding the parts and manifest.json (this file is copied there
by ``python -m cotdistill.bundle build``). Standard library only: the node has
nothing else yet. Steps, each stopping everything on a problem:

1. every part of the manifest is there, has its size and its sha256 (a missing or
   corrupt part is named; nothing is unpacked);
2. the parts are joined and the archive's sha256 checked, then unpacked into DEST
   (default ./run): repo/, the data files beside it, wheels/;
3. the bundled wheels are installed, from the bundle only (--no-index), into the
   private folder DEST/site, beside the node's own torch and transformers;
4. Snakemake runs the bundle's config(s) in DEST/repo with this Python and DEST/site
   first on its path (every job inherits it).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import os
import tarfile
from pathlib import Path

MIB = 1 << 20


def check_parts(folder: Path) -> tuple[dict, list[str]]:
    """(manifest, problems): every part present, of its size and sha256."""
    manifest_path = folder / "manifest.json"
    if not manifest_path.exists():
        return {}, [f"{manifest_path}: missing: copy manifest.json beside the parts"]
    manifest = json.loads(manifest_path.read_text())
    problems = []
    for part in manifest["parts"]:
        path = folder / part["name"]
        if not path.exists():
            problems.append(f"{path}: missing (part of {len(manifest['parts'])}): copy it again")
            continue
        if path.stat().st_size != part["bytes"]:
            problems.append(
                f"{path}: {path.stat().st_size} bytes, the manifest says "
                f"{part['bytes']}: copy it again"
            )
            continue
        if hashlib.sha256(path.read_bytes()).hexdigest() != part["sha256"]:
            problems.append(f"{path}: corrupt (sha256 differs from the manifest): copy it again")
    return manifest, problems


def join_and_unpack(folder: Path, manifest: dict, dest: Path) -> None:
    """Join the parts, check the archive's sha256 and unpack it into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    archive = dest / "bundle.tar"
    digest = hashlib.sha256()
    with open(archive, "wb") as out:
        for part in manifest["parts"]:
            data = (folder / part["name"]).read_bytes()
            digest.update(data)
            out.write(data)
    if digest.hexdigest() != manifest["archive_sha256"]:
        archive.unlink()
        raise SystemExit(f"{archive}: the joined parts do not match the manifest's archive sha256")
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        if any(n.startswith("/") or ".." in Path(n).parts for n in names):
            raise SystemExit(f"{archive}: holds a path outside the bundle; refusing to unpack")
        tar.extractall(dest)
    archive.unlink()


def install(dest: Path) -> Path:
    """The bundled wheels in DEST/site (this Python's torch and transformers stay in use)."""
    site = dest / "site"
    wheels = sorted(str(w) for w in (dest / "wheels").glob("*.whl"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-index",
            "--no-deps",
            "--quiet",
            "--upgrade",
            "--target",
            str(site),
            *wheels,
        ],
        check=True,
    )
    return site


def main(argv=None) -> int:
    """``python unbundle.py``: unpack, install the wheels, run Snakemake."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dest", default="run", help="where to unpack (default ./run)")
    parser.add_argument("--cores", default="all")
    parser.add_argument("--check-only", action="store_true", help="check the parts and stop")
    parser.add_argument("snakemake_args", nargs="*", help="more Snakemake arguments (after --)")
    args = parser.parse_args(argv)
    folder = Path(__file__).resolve().parent
    manifest, problems = check_parts(folder)
    if problems:
        print(
            "bundle not usable, nothing was started:\n" + "\n".join(f"  {p}" for p in problems),
            file=sys.stderr,
        )
        return 2
    total = sum(p["bytes"] for p in manifest["parts"]) / MIB
    print(
        f"{len(manifest['parts'])} parts checked ({total:.1f} MiB), commit "
        f"{manifest.get('commit', '?')[:10]}"
    )
    if args.check_only:
        return 0
    dest = Path(args.dest).resolve()
    join_and_unpack(folder, manifest, dest)
    site = install(dest)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [str(site)] + [p for p in [os.environ.get("PYTHONPATH")] if p]
        ),
        "PATH": os.pathsep.join([str(site / "bin"), os.environ.get("PATH", "")]),
    }
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "--cores",
        args.cores,
        "--configfile",
        *manifest["configfiles"],
        *args.snakemake_args,
    ]
    print("running:", " ".join(cmd), f"(in {dest / 'repo'})", flush=True)
    return subprocess.run(cmd, cwd=dest / "repo", env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
