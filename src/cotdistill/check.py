"""Check a config and every input it names without running anything.

    python -m cotdistill.check [CONFIG]     (default: config.yaml)

The same checks the workflow runs before any job, plus the YAML syntax of a
file given to ``snakemake --configfile`` (which Snakemake parses itself and
reports without a line number). Exit status 1 and one line per problem.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .config import check_config, load_yaml
from .errors import CotDistillError
from .inputs import check_inputs

SCHEMA = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"


def main(argv: list[str]) -> int:
    path = argv[0] if argv else "config.yaml"
    try:
        config = load_yaml(path)
        check_config(config, SCHEMA, source=path)
        check_inputs(config, source=f"the inputs of {path}")
    except CotDistillError as e:
        print(e, file=sys.stderr)
        return 1
    print(f"{path}: no problems found")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
