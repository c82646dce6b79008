"""Loaded at interpreter start when this folder is on PYTHONPATH (tests only).

With COTDISTILL_ENV_GUARD pointing to a JSON map {script file name: [modules its
conda environment provides]}, a workflow job whose own code (its script or the
cotdistill library) imports a third-party module outside that list fails with an
ImportError naming both. Modules that third-party packages import for
themselves are theirs to declare, so they pass.
"""

import importlib.abc
import json
import os
import sys

GUARD = os.environ.get("COTDISTILL_ENV_GUARD")


class _EnvGuard(importlib.abc.MetaPathFinder):
    def __init__(self, script: str, allowed: set[str]):
        self.script, self.allowed = script, allowed

    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if (
            "." in name
            or top in self.allowed
            or top in sys.stdlib_module_names
            or top in ("cotdistill", "snakemake", "_distutils_hack")
        ):
            return None
        frame = sys._getframe(1)
        while frame and frame.f_globals.get("__name__", "").startswith(("importlib", "_frozen")):
            frame = frame.f_back
        caller = frame.f_globals.get("__name__", "") if frame else ""
        if caller == "__main__" or caller.startswith("cotdistill"):
            raise ImportError(
                f"{self.script} imports {name!r} (from {caller}), which its conda "
                f"environment does not list: {sorted(self.allowed)}"
            )
        return None


if GUARD:
    script = os.path.basename(sys.argv[0]).split(".", 1)[-1] if sys.argv and sys.argv[0] else ""
    allowed = json.load(open(GUARD)).get(script)
    if allowed is not None:
        sys.meta_path.insert(0, _EnvGuard(script, set(allowed)))
