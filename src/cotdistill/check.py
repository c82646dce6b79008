"""Check a config and every input it names without running anything.

    python -m cotdistill.check [CONFIG]                 (default: config.yaml)
    python -m cotdistill.check --configfile CONFIG      (the Snakemake habit)

The same checks the workflow runs before any job (a real run's too: hub models in
the cache when the hub is offline, teacher servers answering), plus the YAML syntax of a
file given to ``snakemake --configfile`` (which Snakemake parses itself and
reports without a line number). Several files are merged in order, as
Snakemake merges several ``--configfile`` values. Exit status 1 and one line
per problem.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .config import check_config, fill_defaults, load_yaml, merge_configs
from .errors import CotDistillError
from .inputs import check_inputs, check_offline_models, check_servers
from .sweeps import with_sweeps

SCHEMA = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"


def parse_args(argv: list[str]) -> list[str]:
    """The config files to check: positional, ``--configfile`` or config.yaml."""
    parser = argparse.ArgumentParser(
        prog="python -m cotdistill.check",
        description="Check a config and every input it names, without running a job.",
    )
    parser.add_argument("config", nargs="*", help="config file(s); default: config.yaml")
    parser.add_argument(
        "--configfile",
        "--configfiles",
        nargs="+",
        default=[],
        metavar="CONFIG",
        help="the same, as snakemake takes it",
    )
    args = parser.parse_args(argv)
    return args.config + args.configfile or ["config.yaml"]


def main(argv: list[str]) -> int:
    """Check the configs and every input they name; 0 when there is no problem."""
    paths = parse_args(argv)
    name = ", ".join(paths)
    try:
        config = merge_configs(load_yaml(p) for p in paths)
        check_config(config, SCHEMA, source=name)
        config = with_sweeps(fill_defaults(config, SCHEMA))
        notes: list[str] = []
        check_inputs(config, source=f"the inputs of {name}", notes=notes)
        check_offline_models(config, source=f"the models of {name}")
        check_servers(config, source=f"the teacher servers of {name}")
    except CotDistillError as e:
        print(e, file=sys.stderr)
        return 1
    for note in notes:
        print(note)
    print(f"{name}: no problems found")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
