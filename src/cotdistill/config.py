"""Validate the workflow config before any job runs, and derive per-job settings.

``check_config`` collects every problem (schema and meaning: unknown condition
functions or parameters, teachers pointing at undefined datasets, missing
files) and raises one :class:`ConfigError` naming each key and its fix.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Mapping

import yaml

from . import conditions
from .errors import ConfigError, InvalidConfig
from .models import PACKAGE_PREFIX, resolve_model


def load_yaml(path: str | Path) -> dict:
    """A config file, or a :class:`ConfigError` naming its file, line and column
    (Snakemake's own loader says only that the file is not valid YAML)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(
            "(the file)",
            f"cannot be read: {e.strerror}",
            "give the path of a config file, such as config/study-csqa.yaml",
            source=str(path),
        ) from None
    try:
        return yaml.safe_load(text) or {}
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
        raise ConfigError(
            f"(YAML syntax at {where})",
            f"{e.problem or e}",
            "indent keys of one mapping by the same spaces (no tabs) and close "
            "every bracket and quote",
            source=str(path),
        ) from None


def merge_configs(configs) -> dict:
    """Several config files as Snakemake merges several ``--configfile`` values: later
    files update earlier ones key by key, nested mappings too."""
    out: dict = {}
    for config in configs:
        _update(out, config)
    return out


def _update(into: dict, new: Mapping) -> None:
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _update(into[key], value)
        else:
            into[key] = value


def _key(path) -> str:
    return ".".join(str(p) for p in path) or "(top level)"


def schema_problems(config: Mapping, schema_path: str | Path) -> list[str]:
    """Every place ``config`` breaks the schema, as 'key: problem. Fix: ...' lines."""
    import jsonschema
    from jsonschema.exceptions import best_match

    schema = yaml.safe_load(Path(schema_path).read_text())
    validator = jsonschema.Draft202012Validator(schema)
    problems = []
    for err in sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path)):
        while err.context and isinstance(err.instance, dict):
            # oneOf/anyOf over "false or a mapping": report what is wrong inside the mapping
            inner = [e for e in err.context if e.validator != "const"]
            err = best_match(inner or err.context)
        key = _key(err.absolute_path)
        if err.validator == "additionalProperties":
            allowed = sorted(err.schema.get("properties", {}))
            for extra in sorted(set(err.instance) - set(allowed)):
                where = _key([*err.absolute_path, extra])
                fix = MOVED_KEYS.get(where) or _unknown_key_fix(extra, allowed)
                problems.append(f"'{where}': unknown key. Fix: {fix}")
            continue
        if err.validator == "required":
            fix = f"add it ({err.schema.get('description', 'see config.yaml for an example')})"
        else:
            fix = _value_fix(err)
        problems.append(f"'{key}': {err.message}. Fix: {fix}")
    return problems


# keys of older configs whose setting moved: the fix says where (the closest spelling would not)
MOVED_KEYS = {
    f"{section}.lens": f"the lens readouts now run in each run's evaluate job (one model load): "
    f"set {section}.evaluate, and remove {section}.lens"
    for section in ("threads", "resources")
}


def _unknown_key_fix(key: str, allowed: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'? (allowed keys here: {allowed})"
    return f"remove it (allowed keys here: {allowed})" if allowed else "remove it"


_BOUNDS = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<=", "exclusiveMaximum": "<"}


def _value_fix(err) -> str:
    """The fix for a wrong value: the bound it broke, or how YAML read it."""
    if err.validator in _BOUNDS:
        return f"use a value {_BOUNDS[err.validator]} {err.validator_value}"
    if err.validator == "type" and isinstance(err.instance, str):
        try:
            float(err.instance)
        except ValueError:
            pass
        else:  # YAML 1.1 reads 1e-3 (no dot) as text
            return (
                f"YAML read {err.instance!r} as text; write it with a dot and a signed "
                f"exponent, e.g. {float(err.instance):.1e}"
            )
    if err.validator == "enum":
        return f"use one of {err.validator_value}"
    return err.schema.get("description") or "see config.yaml for an example"


def meaning_problems(config: Mapping) -> list[str]:
    """Checks JSON schema cannot express."""
    problems = []
    datasets = config.get("datasets", {})
    for name, spec in (config.get("conditions") or {}).items():
        try:
            conditions.resolve(name, spec)
        except ConfigError as e:
            problems.append(f"'{e.key}': {e.problem}. Fix: {e.fix}")
    problems += attribution_problems(config)
    for name, spec in datasets.items():
        if spec.get("source") == "jsonl":
            for split in ("train", "test"):
                path = (spec.get("files") or {}).get(split)
                if not path:
                    problems.append(
                        f"'datasets.{name}.files.{split}': missing. "
                        f"Fix: give the path of the {split} JSONL file"
                    )
                elif not Path(path).exists():
                    problems.append(
                        f"'datasets.{name}.files.{split}': file {path} not found. "
                        "Fix: correct the path (relative to the working directory)"
                    )
        if spec.get("source") == "hub" and not spec.get("name"):
            problems.append(f"'datasets.{name}.name': missing. Fix: give the hub name")
    from .teachers.base import STRIP_ANSWER, backend_class, backends

    for tname, tspec in (config.get("teachers") or {}).items():
        if tspec.get("backend") not in backends():
            problems.append(
                f"'teachers.{tname}.backend': unknown backend '{tspec.get('backend')}'. "
                f"Fix: use one of {backends()}"
            )
        else:
            cls = backend_class(tspec["backend"])
            for dname in tspec.get("datasets") or {}:
                options = {
                    k: v
                    for k, v in teacher_spec(config, tname, dname).items()
                    if k not in ("backend", STRIP_ANSWER)
                }
                for key, problem, fix in cls.option_problems(options):
                    where = (
                        f"teachers.{tname}.datasets.{dname}.{key}"
                        if key in (tspec["datasets"][dname] or {})
                        else f"teachers.{tname}.{key}"
                    )
                    problems.append(f"'{where}': {problem} (for dataset {dname}). Fix: {fix}")
                unsuited = (
                    cls.dataset_problem(datasets.get(dname) or {}) if dname in datasets else None
                )
                if unsuited:
                    problems.append(
                        f"'teachers.{tname}.datasets.{dname}': {unsuited[0]}. Fix: {unsuited[1]}"
                    )
        for dname, dspec in (tspec.get("datasets") or {}).items():
            if dname not in datasets:
                problems.append(
                    f"'teachers.{tname}.datasets.{dname}': no dataset '{dname}' is "
                    f"defined. Fix: use one of {sorted(datasets)} or define it"
                )
            for split, path in ((dspec or {}).get("files") or {}).items():
                if not Path(path).exists():
                    problems.append(
                        f"'teachers.{tname}.datasets.{dname}.files.{split}': file "
                        f"{path} not found. Fix: correct the path"
                    )
    for sname, sspec in (config.get("students") or {}).items():
        if sspec.get("kind") == "pretrained" and not sspec.get("model"):
            problems.append(
                f"'students.{sname}.model': missing. "
                "Fix: give a Hugging Face model id or a local folder"
            )
        if sspec.get("lora") and importlib.util.find_spec("peft") is None:
            problems.append(
                f"'students.{sname}.lora': LoRA needs the peft package, which is "
                "not installed. Fix: pip install peft, or remove 'lora:'"
            )
    for owner in ("students", "teachers"):
        for name, spec in (config.get(owner) or {}).items():
            model = spec.get("model")
            if isinstance(model, str) and model.startswith(PACKAGE_PREFIX):
                try:
                    resolve_model(model)
                except ConfigError as e:
                    problems.append(f"'{owner}.{name}.model': {e.problem}. Fix: {e.fix}")
            if spec.get("gguf_file") and importlib.util.find_spec("gguf") is None:
                problems.append(
                    f"'{owner}.{name}.gguf_file': reading GGUF needs the gguf "
                    "package. Fix: pip install gguf accelerate"
                )
    return problems


def attribution_problems(config: Mapping) -> list[str]:
    """Score sources and the conditions that read them (one contract: needs_scores)."""
    from .teachers.base import backend_class

    problems = []
    entries = config.get("attribution") or {}
    for cname in config.get("conditions") or {}:
        try:
            condition_scores(config, cname)
        except ConfigError as e:
            if e.key.endswith(".scores"):  # other condition problems: reported by the caller
                problems.append(f"'{e.key}': {e.problem}. Fix: {e.fix}")
    for aname, aspec in entries.items():
        method = (aspec or {}).get("method", ATTRIBUTION_METHOD)
        key = f"attribution.{aname}"
        if method == "known":
            used = [
                c
                for c in (config.get("conditions") or {})
                if _condition_scores_or_none(config, c) == aname
            ]
            for tname, tspec in (config.get("teachers") or {}).items():
                cls = backend_class(tspec.get("backend"))
                if used and cls is not None and not cls.provides_key_words:
                    problems.append(
                        f"'{key}': known key words come from the teacher, and teacher "
                        f"'{tname}' (backend {tspec['backend']}) records none, yet conditions "
                        f"{used} read them. Fix: use method: integrated_gradients for them"
                    )
            continue
        model = attributor_model(config, aname)
        if "run" in model:
            cond = model["run"]
            if cond not in (config.get("conditions") or {}):
                problems.append(
                    f"'{key}.model.run': condition '{cond}' is not in this config's "
                    f"conditions. Fix: add it, or use one of "
                    f"{sorted(config.get('conditions') or {})}"
                )
            elif _condition_scores_or_none(config, cond) is not None:
                problems.append(
                    f"'{key}.model.run': condition '{cond}' itself needs scores, "
                    "so attributing with its run would be a cycle. Fix: use a run "
                    "of a condition without scores, e.g. cot_before"
                )
            if model["student"] not in (config.get("students") or {}):
                problems.append(
                    f"'{key}.model.student': no student '{model['student']}'. "
                    f"Fix: use one of {sorted(config.get('students') or {})}"
                )
        elif model.get("teacher"):
            for tname, tspec in (config.get("teachers") or {}).items():
                if not tspec.get("model"):
                    problems.append(
                        f"'{key}.model': teacher '{tname}' (backend "
                        f"{tspec.get('backend')}) has no model of its own to "
                        "attribute with. Fix: use model: {run: cot_before} or a "
                        "model id"
                    )
        elif isinstance(model.get("model"), str) and model["model"].startswith(PACKAGE_PREFIX):
            try:
                resolve_model(model["model"])
            except ConfigError as e:
                problems.append(f"'{key}.model.model': {e.problem}. Fix: {e.fix}")
    return problems


def _condition_scores_or_none(config: Mapping, cname: str) -> str | None:
    try:
        return condition_scores(config, cname)
    except (ConfigError, KeyError):
        return None


def check_config(config: Mapping, schema_path: str | Path, source: str = "config") -> None:
    """Schema and meaning problems of ``config``, all at once; the meaning checks see
    its sweeps expanded into conditions (``sweeps.with_sweeps``), as every job does."""
    from .sweeps import sweep_problems, with_sweeps

    problems = schema_problems(config, schema_path)
    try:
        swept = sweep_problems(config)  # a bad sweep's points are not checked one by one
        problems += swept + meaning_problems(config if swept else with_sweeps(config))
    except (AttributeError, KeyError, TypeError, ValueError):
        # a meaning check met a shape the schema problems above already name
        if not problems:
            raise
    if problems:
        raise InvalidConfig(source, problems)


def schema_defaults(node: Mapping) -> dict:
    """``{key: default}`` of a schema object's properties that declare one."""
    return {
        key: prop["default"]
        for key, prop in (node.get("properties") or {}).items()
        if "default" in prop
    }


def fill_defaults(config: dict, schema_path: str | Path) -> dict:
    """Top-level settings the config leaves out, set to the schema's defaults: done once,
    by the workflow, so no rule or script carries a default of its own. Sections that
    feed a job's params (training, evaluation, lens, ...) are left as written, so the
    params (and what reruns) stay what the user wrote; their defaults live in the
    library's config dataclasses, which tests/test_defaults.py holds to the schema."""
    for key, value in schema_defaults(load_yaml(schema_path)).items():
        if not isinstance(value, (dict, list)):
            config.setdefault(key, value)
    return config


# ---- per-job settings derived from the config --------------------------------


def results_dir(config: Mapping) -> str:
    """The folder every output of this config goes to (``results:``, default results)."""
    return str(config.get("results") or "results").rstrip("/")


def units(config: Mapping) -> list[tuple[str, str]]:
    """(teacher, dataset) pairs the config asks for."""
    return [(t, d) for t, spec in config["teachers"].items() for d in spec["datasets"]]


def dataset_split_spec(config: Mapping, dataset: str, split: str) -> dict:
    """What one split's data job depends on: the entry with the other split's file,
    subset size and hub split left out (editing the test file reruns no train job)."""
    spec = dict(config["datasets"][dataset])
    for key in ("files", "splits"):
        if key in spec:
            spec[key] = {k: v for k, v in spec[key].items() if k == split}
    if "subset" in spec:
        spec["subset"] = {k: v for k, v in spec["subset"].items() if k in (split, "seed")}
    spec.pop("allow_overlap", None)  # read by the input check, across splits
    return spec


def dataset_split_files(config: Mapping, dataset: str, split: str) -> list[str]:
    """The local file a split is read from (none for generated or hub datasets)."""
    path = (config["datasets"][dataset].get("files") or {}).get(split)
    return [path] if path else []


def teacher_spec(config: Mapping, teacher: str, dataset: str) -> dict:
    """Backend options of ``teacher`` for ``dataset`` (the entry minus bookkeeping keys)."""
    spec = {
        k: v
        for k, v in config["teachers"][teacher].items()
        if k not in ("datasets", "only_correct")
    }
    return {**spec, **(config["teachers"][teacher]["datasets"].get(dataset) or {})}


def teacher_split_files(config: Mapping, teacher: str, dataset: str, split: str) -> list[str]:
    """The rationale file a precomputed teacher reads for this split, if any."""
    path = (teacher_spec(config, teacher, dataset).get("files") or {}).get(split)
    return [path] if path else []


def training_spec(config: Mapping, student: str) -> dict:
    """A student's training options: the config's ``training``, its own on top."""
    return {**(config.get("training") or {}), **(config["students"][student].get("training") or {})}


def student_base_spec(config: Mapping, student: str) -> dict:
    """What defines a student's base folder (not its training options)."""
    return {k: v for k, v in config["students"][student].items() if k != "training"}


def model_source(config: Mapping, owner: str, name: str) -> dict:
    """The weights source of a student, teacher or attributor: ``{model, revision, gguf_file}``."""
    spec = attributor_model(config, name) if owner == "attributors" else config[owner][name]
    return {
        k: spec[k] for k in ("model", "revision", "gguf_file", "trust_remote_code") if spec.get(k)
    }


# ---- attribution ---------------------------------------------------------------

ATTRIBUTION_METHOD = "integrated_gradients"  # the schema's attribution.*.method default
ATTRIBUTOR_DEFAULT = {"run": "cot_before"}  # the schema's attribution.*.model default


def attributor_model(config: Mapping, name: str) -> dict:
    """The model an attribution entry attributes with, normalised to one of
    ``{run, seed, student}`` (a trained run; the default is the cot_before run of
    the first student and first seed), ``{teacher: True}``, or a model source
    ``{model, revision?, gguf_file?, dtype?}``."""
    model = (config["attribution"][name] or {}).get("model", ATTRIBUTOR_DEFAULT)
    if model == "teacher":
        return {"teacher": True}
    model = dict(model)
    if "model" in model:
        return model
    return {
        "run": model.get("run", ATTRIBUTOR_DEFAULT["run"]),
        "seed": int(model.get("seed", config["seeds"][0])),
        "student": model.get("student", next(iter(config["students"]))),
    }


def condition_scores(config: Mapping, cname: str) -> str | None:
    """The attribution entry condition ``cname`` reads, or None when it needs no scores."""
    cspec = config["conditions"][cname]
    if not conditions.needs_scores(cname, cspec):
        return None
    named = (cspec or {}).get("scores")
    entries = config.get("attribution") or {}
    key = f"conditions.{cname}.scores"
    if named is None:
        if len(entries) != 1:
            raise ConfigError(
                key,
                "the condition needs attribution scores and none is chosen",
                f"name one with 'scores:' ({sorted(entries)})"
                if entries
                else "add an attribution entry, e.g. 'attribution: {ig: {}}'",
            )
        return next(iter(entries))
    if named not in entries:
        raise ConfigError(
            key,
            f"no attribution entry '{named}'",
            f"use one of {sorted(entries)} or define it under attribution:",
        )
    return named


def attribution_spec(config: Mapping, name: str, teacher: str) -> dict:
    """Everything that defines one attribution job's scores (its rule's params)."""
    entry = dict(config["attribution"][name] or {})
    entry.setdefault("method", ATTRIBUTION_METHOD)
    if entry["method"] == "known":
        return {"method": "known"}
    model = attributor_model(config, name)
    if model.get("teacher"):
        tspec = config["teachers"][teacher]
        model = {
            **model_source(config, "teachers", teacher),
            **({"dtype": tspec["dtype"]} if tspec.get("dtype") else {}),
        }
    return {**entry, "model": model}


# ---- verdicts ---------------------------------------------------------------------


def verdicts_spec(config: Mapping) -> dict:
    """{metric, margin, retained, min_parse_rate} the verdict rules use, defaults filled in."""
    from dataclasses import asdict
    from .verdicts import Settings

    return asdict(Settings.from_dict(config.get("verdicts")))


# ---- lens ------------------------------------------------------------------------

LENS_DEFAULT_EMERGENCE = 0.9  # the schema's lens.emergence default


def lens_enabled(config: Mapping) -> bool:
    """Whether the lens readouts run (only ``lens: false`` turns them off)."""
    return config.get("lens", {}) is not False


def lens_run_spec(config: Mapping) -> dict:
    """What one run's lens job depends on (the emergence threshold is only read when
    tables are made, so changing it reruns no lens job)."""
    return {k: v for k, v in (config.get("lens") or {}).items() if k != "emergence"}


def lens_emergence(config: Mapping) -> float:
    """The share of the last layer's gain over chance that counts as emerged."""
    return float((config.get("lens") or {}).get("emergence", LENS_DEFAULT_EMERGENCE))
