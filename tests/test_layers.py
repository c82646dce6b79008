"""The library's layers import downwards only: the input and model layers (data,
teachers, attribution, formats, tables) know nothing of the stages built on them, and
no table reads a run's identity out of its path (targets.py is the workflow's map of
paths, for the Snakefile alone)."""

import ast
from pathlib import Path

import cotdistill

LIB = Path(cotdistill.__file__).parent
# modules a lower layer must not import: the stages, tables and verdicts built on it
UPPER = {"conditions", "aggregate", "summary", "targets", "stages", "verdicts", "curves"}
LOWER = ["data", "teachers", "attribution", "formats.py", "tables.py", "stats.py"]


def imported_modules(path: Path) -> set[str]:
    """The cotdistill modules ``path`` imports, as dotted names under the package
    (``conditions``, ``attribution.scores``), whether the import is relative or not."""
    package = list(path.relative_to(LIB).parent.parts)
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.ImportFrom):
            continue
        module = (node.module or "").split(".") if node.module else []
        if node.level == 0:
            if module[0] != "cotdistill":
                continue
            base = module[1:]
        else:
            base = package[: len(package) - (node.level - 1)] + module
        if node.module:
            found.add(".".join(base))
        else:  # from . import x, y: each name is a module of that package
            found.update(".".join([*base, a.name]) for a in node.names)
    return found


def top_level(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def lower_files():
    for name in LOWER:
        target = LIB / name
        yield from ([target] if target.is_file() else sorted(target.rglob("*.py")))


def test_lower_layers_import_no_stage_table_or_verdict_module():
    upward = {
        str(f.relative_to(LIB)): sorted(top_level(imported_modules(f)) & UPPER)
        for f in lower_files()
        if top_level(imported_modules(f)) & UPPER
    }
    assert upward == {}


def test_no_library_module_but_the_snakefile_map_reads_targets():
    readers = [
        str(f.relative_to(LIB))
        for f in LIB.rglob("*.py")
        if f.name != "targets.py" and "targets" in top_level(imported_modules(f))
    ]
    assert readers == []


def test_the_import_scan_resolves_relative_imports():
    sample = LIB / "attribution" / "_probe_for_test.py"
    try:
        sample.write_text("from ..conditions import resolve\nfrom . import scores\n")
        assert imported_modules(sample) == {"conditions", "attribution.scores"}
    finally:
        sample.unlink()
