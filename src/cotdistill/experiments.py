"""One results folder, one experiment: a second config never writes over the first's tables.

The first real run of a config into a results folder records the config file in
``RESULTS/.experiment``; a run of another config into the same folder stops at
parse time, before any job, and says how to give it a folder of its own.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

from .errors import ConfigError

MARKER = ".experiment"


def identity(config_files: Sequence[str]) -> list[str]:
    """The config files' absolute paths: which experiment owns a results folder."""
    return [str(Path(f).resolve()) for f in config_files]


def check_results_owner(results: str, config_files: Sequence[str]) -> None:
    """Raise :class:`ConfigError` when ``results`` holds another config's results."""
    marker = Path(results) / MARKER
    if not marker.exists():
        return
    owner = json.loads(marker.read_text())["config"]
    if owner != identity(config_files):
        raise ConfigError(
            "results",
            f"{results}/ holds the results of {', '.join(owner)}, and this run's "
            f"config is {', '.join(identity(config_files))}",
            "give this config its own folder "
            f"(e.g. 'results: {results}-{Path(config_files[0]).stem}'), "
            f"or delete {results}/ (or its {MARKER}) to start over there",
            source=", ".join(config_files),
        )


def claim(results: str, config_files: Sequence[str]) -> None:
    """Record that ``results`` belongs to these config files (once; at a run's start)."""
    marker = Path(results) / MARKER
    if not marker.exists():
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(json.dumps({"config": identity(config_files)}, indent=1) + "\n")
