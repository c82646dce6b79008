"""Check every input a config names before any job runs.

Dataset files, rationale files and model folders are read the way the jobs
will read them, so a bad row stops the run at parse time, before Snakemake
deletes or rewrites anything under ``results/``. Every problem is collected
(one per file: the first bad line), each naming the file and line or the
config key, and the fix.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from pathlib import Path
from typing import Mapping

from .config import dataset_split_files, teacher_spec, teacher_split_files
from .errors import CotDistillError, InvalidConfig
from .models import PACKAGE_PREFIX

SPLITS = ("train", "test")


def check_inputs(
    config: Mapping,
    source: str = "the config's inputs",
    cache: str | Path | None = None,
    notes: list[str] | None = None,
) -> None:
    """Raise InvalidConfig with every input problem of ``config`` (``input_problems``)."""
    problems = input_problems(config, cache, notes)
    if problems:
        raise InvalidConfig(source, problems)


def input_problems(
    config: Mapping, cache: str | Path | None = None, notes: list[str] | None = None
) -> list[str]:
    """``cache``: a JSON file remembering checks that passed, keyed by the entry and
    each file's size and modification time, so a dry run rereads only edited files.
    ``notes``: collects what passed but is worth saying (each rationale file's match)."""
    passed = _Passed(None if notes is not None else cache)
    problems = []
    for name, spec in (config.get("datasets") or {}).items():
        if spec.get("source") == "jsonl":
            problems += passed.check(
                ("dataset", name, spec),
                (spec.get("files") or {}).values(),
                lambda: dataset_problems(name, spec),
            )
    for tname, tspec in (config.get("teachers") or {}).items():
        if tspec.get("backend") == "precomputed":
            files = [
                f
                for d in (tspec.get("datasets") or {})
                for split in SPLITS
                for f in teacher_split_files(config, tname, d, split)
                + (dataset_split_files(config, d, split) if d in config.get("datasets", {}) else [])
            ]
            datasets = {
                d: (config.get("datasets") or {}).get(d) for d in tspec.get("datasets") or {}
            }
            # the conditions too: their budgets are checked against the rationales
            what = ("rationales", tname, tspec, datasets, config.get("conditions"))
            problems += passed.check(what, files, lambda: rationale_problems(config, tname, notes))
    problems += model_problems(config, model_path_problem)
    return problems


def model_problems(config: Mapping, check) -> list[str]:
    """``check(model)`` on every student's and teacher's model, as config problems; an
    ``openai`` teacher's model is the server's (see :func:`server_problems`)."""
    problems = []
    for owner in ("students", "teachers"):
        for name, spec in (config.get(owner) or {}).items():
            if owner == "teachers" and _served(spec):
                continue
            problem = check(spec.get("model"), spec.get("gguf_file"))
            if problem:
                problems.append(f"'{owner}.{name}.model': {problem}")
    return problems


def check_offline_models(config: Mapping, source: str = "the config's models") -> None:
    """Before a real run (not a dry run, which may plan models it has not got): every
    hub model must be in the local cache when the hub is offline."""
    problems = model_problems(config, offline_hub_problem)
    if problems:
        raise InvalidConfig(source, problems)


def _served(teacher: Mapping) -> bool:
    from .teachers.base import backend_class

    cls = backend_class(teacher.get("backend"))
    return bool(cls and cls.model_is_served)


def server_problems(config: Mapping, done=lambda teacher, dataset: False) -> list[str]:
    """Each ``openai`` teacher's server must answer, unless ``done(teacher, dataset)`` says
    that every rationale it would write is already there (a cached run needs no server)."""
    from .teachers.openai_compat import server_problem

    problems = []
    for name, spec in (config.get("teachers") or {}).items():
        if not _served(spec) or all(done(name, d) for d in spec.get("datasets") or {}):
            continue
        urls = {teacher_spec(config, name, d).get("base_url") for d in spec.get("datasets") or {}}
        for url in sorted(u for u in urls if u):
            problem = server_problem(url)
            if problem:
                problems.append(f"'teachers.{name}.base_url': {problem}")
    return problems


def check_servers(
    config: Mapping, done=lambda teacher, dataset: False, source: str = "the config's teachers"
) -> None:
    """Raise InvalidConfig when an openai teacher's server does not answer."""
    problems = server_problems(config, done)
    if problems:
        raise InvalidConfig(source, problems)


def dataset_problems(name: str, spec: Mapping) -> list[str]:
    """Rows of both splits (after the subset is drawn), the subset's size, and leakage."""
    from .data.loaders import load_jsonl, select_rows
    from .data.overlap import LEAK_FIX, leak_problem, overlapping

    problems, splits = [], {}
    for split in SPLITS:
        path = (spec.get("files") or {}).get(split)
        if not path or not Path(path).exists():
            continue  # named by the config check
        try:
            every = load_jsonl(path)
            with _quiet("cotdistill.data.loaders"):  # the data job logs its skipped rows
                splits[split] = select_rows(every, spec, split)
        except CotDistillError as e:
            problems.append(str(e))
            continue
        asked = (spec.get("subset") or {}).get(split)
        if asked and asked > len(every):
            problems.append(
                f"'datasets.{name}.subset.{split}': asks for {asked} rows, and "
                f"{path} has {len(every)}. Fix: ask for at most {len(every)}, or remove it"
            )
    if len(splits) == 2 and not spec.get("allow_overlap"):
        leaked = overlapping(splits["train"], splits["test"])
        if len(leaked):
            leak = leak_problem(leaked, spec["files"]["test"], spec["files"]["train"])
            fix = LEAK_FIX.format(key=f"datasets.{name}.allow_overlap")
            problems.append(f"'datasets.{name}': {leak}. Fix: {fix}")
    return problems


def rationale_problems(config: Mapping, teacher: str, notes: list[str] | None = None) -> list[str]:
    """Each rationale file read as the teacher job reads it, and matched against the
    dataset's rows (jsonl and synthetic sources; a hub dataset is matched in its job):
    repeated ids, and a coverage below ``min_coverage`` (or none at all), stop the run
    here instead of in the teacher job. ``notes`` collects each match's counts."""
    from .conditions import full_budget_problems
    from .teachers.matching import coverage_problem
    from .teachers.base import STRIP_ANSWER
    from .teachers.precomputed import PrecomputedTeacher

    problems = []
    for dataset in config["teachers"][teacher].get("datasets") or {}:
        options = {
            k: v
            for k, v in teacher_spec(config, teacher, dataset).items()
            if k not in ("backend", STRIP_ANSWER)
        }
        try:
            reader = PrecomputedTeacher(**options)
        except (TypeError, CotDistillError):
            continue  # its options are named by the config check
        if "train" not in reader.files:
            problems.append(
                f"'teachers.{teacher}.datasets.{dataset}.files': no file for the "
                "train split, whose rationales every condition trains on. Fix: add "
                "'train: PATH'"
            )
        for split, path in reader.files.items():
            key = f"teachers.{teacher}.datasets.{dataset}.files.{split}"
            if split not in SPLITS:
                problems.append(
                    f"'{key}': the workflow reads rationales for the "
                    f"{' and '.join(SPLITS)} splits, not '{split}'. Fix: name the "
                    f"file under 'train' (the split the conditions train on)"
                )
                continue
            if not Path(path).exists():
                continue  # named by the config check
            try:
                data = _split_rows(config, dataset, split)
            except CotDistillError:
                data = None  # a bad dataset row: named by the dataset's own check
            try:
                if data is None:
                    reader.read(split)
                    continue
                rows, report, file_ids = reader.matched(data, split)
            except CotDistillError as e:
                problems.append(f"{e} ({key})")
                continue
            problem = coverage_problem(
                report,
                reader.min_coverage,
                data,
                rows["id"],
                file_ids,
                key=f"teachers.{teacher}.datasets.{dataset}",
            )
            if problem:
                problems.append(f"{path}: {problem} ({key})")
                continue
            if notes is not None:
                notes.append(f"{path}: {report.describe()} ({key})")
            if split == "train":
                problems += [
                    f"{p} (on the rationales of {path})"
                    for p in full_budget_problems(config.get("conditions"), rows["rationale"])
                ]
    return problems


def _split_rows(config: Mapping, dataset: str, split: str):
    """A dataset split's rows as the data job makes them, or None where that needs the
    network (a hub dataset) or the dataset is not in the config (named elsewhere)."""
    from .data import load_dataset_split

    spec = (config.get("datasets") or {}).get(dataset)
    if not spec or spec.get("source") not in ("jsonl", "synthetic"):
        return None
    if (
        spec.get("source") == "jsonl"
        and not Path((spec.get("files") or {}).get(split, "")).is_file()
    ):
        return None
    with _quiet("cotdistill.data.loaders"):
        return load_dataset_split(spec, split)


def _names_folder(model) -> bool:
    return (
        isinstance(model, str)
        and not model.startswith(PACKAGE_PREFIX)
        and (
            Path(model).expanduser().exists()
            or model.startswith((".", "/", "~"))
            or model.count("/") > 1
        )
    )


WEIGHT_FILES = ("*.safetensors", "*.safetensors.index.json", "pytorch_model*.bin", "*.pt", "*.gguf")


def model_path_problem(model, gguf_file: str | None = None) -> str | None:
    """Why ``model`` cannot load here, or None: a value that names a folder (it
    starts with '.', '/' or '~', or has more than one '/') must exist and hold a
    model: ``gguf_file``, or a config.json and weights."""
    if not _names_folder(model):
        return None
    folder = Path(model).expanduser()
    if not folder.exists():
        return (
            f"folder {model} not found. Fix: correct the path (relative to the working "
            "directory), or give a hub id such as HuggingFaceTB/SmolLM2-135M-Instruct"
        )
    if not folder.is_dir():
        return None  # a file: loaders that take one say what they make of it
    if gguf_file:
        if (folder / gguf_file).is_file():
            return None
        missing = [f"{gguf_file} (its gguf_file)"]
    else:
        missing = [] if (folder / "config.json").is_file() else ["config.json"]
        if not any(next(folder.glob(p), None) for p in WEIGHT_FILES):
            missing.append("weights (*.safetensors or pytorch_model.bin)")
        if not missing:
            return None
    files = sorted(p.name for p in folder.iterdir())[:6]
    return (
        f"folder {model} holds no {' and no '.join(missing)} (it holds "
        f"{files or 'nothing'}). Fix: point to a folder written by save_pretrained, or "
        "download the model into it (huggingface-cli download ID --local-dir FOLDER)"
    )


def offline_hub_problem(model, gguf_file: str | None = None) -> str | None:
    """A hub id ('org/name') must be in the local hub cache when the hub is offline."""
    if not isinstance(model, str) or model.startswith(PACKAGE_PREFIX) or _names_folder(model):
        return None
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
        from huggingface_hub import try_to_load_from_cache

        if not isinstance(try_to_load_from_cache(model, "config.json"), str):
            return (
                f"'{model}' is neither a local folder nor in the hub cache, and the hub "
                "is offline (HF_HUB_OFFLINE=1). Fix: download it where the hub is "
                "reachable, or point to a local folder"
            )
    return None


@contextlib.contextmanager
def _quiet(logger: str):
    log = logging.getLogger(logger)
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


class _Passed:
    """The checks that passed before, for files unchanged since."""

    def __init__(self, path: str | Path | None):
        self.path = Path(path) if path else None
        try:
            self.keys = set(json.loads(self.path.read_text())) if self.path else set()
        except (OSError, ValueError):
            self.keys = set()

    def check(self, what, files, run) -> list[str]:
        """The problems ``run()`` finds, or none when these files passed unchanged before."""
        stats = []
        for f in files:
            try:
                st = os.stat(f)
            except OSError:
                return run()  # a missing file: let the check name it
            stats.append([str(f), st.st_size, st.st_mtime_ns])
        key = json.dumps([what, stats], sort_keys=True, default=str)
        if key in self.keys:
            return []
        problems = run()
        if not problems and self.path:
            self.keys.add(key)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps(sorted(self.keys)))
        return problems
