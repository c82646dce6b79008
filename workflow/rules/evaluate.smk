# Evaluation and the lens readouts of a run share one job: the lens reads the
# predictions, and one job loads the model (and torch) once instead of twice.
# The price: a change of lens settings re-evaluates too (cheap next to training).
LENS_ON = lens_enabled(config)


rule evaluate:
    input:
        model=R("results/runs/{student}/{teacher}/{dataset}/{condition}/seed{seed}/model"),
        lora_base=lambda wc: targets.adapter_base(config, wc.student, wc.teacher, wc.dataset),
        test=R(targets.CONDITION_TEST),
        # the run's training targets: the tuned lens learns from them, and a rationale-first
        # student's generation budget is derived from their longest rationale
        train=lambda wc: targets.condition_train(
            config, wc.teacher, wc.dataset, wc.condition, wc.seed
        ),
    output:
        **(
            {
                "lens": R(
                    "results/runs/{student}/{teacher}/{dataset}/{condition}/seed{seed}/lens.parquet"
                )
            }
            if LENS_ON
            else {}
        ),
        predictions=R(
            "results/runs/{student}/{teacher}/{dataset}/{condition}/seed{seed}/predictions.parquet"
        ),
        metrics=R("results/runs/{student}/{teacher}/{dataset}/{condition}/seed{seed}/metrics.json"),
    log:
        R("results/logs/evaluate/{student}/{teacher}/{dataset}/{condition}/seed{seed}.log"),
    benchmark:
        R("results/benchmarks/evaluate/{student}/{teacher}/{dataset}/{condition}/seed{seed}.tsv")
    conda:
        "../../envs/train.yaml"
    threads: rule_threads("evaluate")
    resources:
        **rule_resources("evaluate"),
    params:
        spec=config.get("evaluation", {}),
        lens=lens_run_spec(config) if LENS_ON else False,
    script:
        "../scripts/evaluate_student.py"
