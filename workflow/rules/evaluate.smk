# Evaluation and the lens readouts of a run share one job: the lens reads the
# predictions, and one job loads the model (and torch) once instead of twice.
# The price: a change of lens settings re-evaluates too (cheap next to training).
LENS_ON = lens_enabled(config)


rule evaluate:
    input:
        model=rules.train.output.model,
        lora_base=lambda wc: targets.adapter_base(config, wc.student, wc.teacher, wc.dataset),
        test=rules.condition_test.output.test,
        # the run's training targets: the tuned lens learns from them, and a rationale-first
        # student's generation budget is derived from their longest rationale
        train=lambda wc: targets.condition_train(
            config, wc.teacher, wc.dataset, wc.condition, wc.seed
        ),
    output:
        **({"lens": R(targets.RUN_FILES["lens"])} if LENS_ON else {}),
        predictions=R(targets.RUN_FILES["predictions"]),
        metrics=R(targets.RUN_FILES["metrics"]),
    log:
        log_of("evaluate", RUN_KEY),
    benchmark:
        benchmark_of("evaluate", RUN_KEY)
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
