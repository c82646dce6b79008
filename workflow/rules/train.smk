rule student_base:
    input:
        # a scratch tokenizer is trained on the data and rationales; a pretrained
        # student's is its own, so rationales changing rebuild nothing for it
        train=lambda wc: scratch_only(wc, R(targets.TRAIN_DATA)),
        rationales=lambda wc: scratch_only(wc, R(targets.RATIONALES)),
        weights=lambda wc: targets.converted_weights(config, "students", wc.student),
    output:
        directory(R(targets.BASE)),
    log:
        log_of("student_base", "{student}/{teacher}/{dataset}"),
    benchmark:
        benchmark_of("student_base", "{student}/{teacher}/{dataset}")
    conda:
        "../../envs/train.yaml"
    resources:
        **rule_resources("student_base"),
    params:
        spec=lambda wc: student_base_spec(config, wc.student),
    script:
        "../scripts/make_student_base.py"


rule train:
    input:
        base=rules.student_base.output[0],
        rows=lambda wc: targets.condition_train(
            config, wc.teacher, wc.dataset, wc.condition, wc.seed
        ),
    output:
        model=run_weights(R(targets.RUN_FILES["model"])),
        log=R(targets.RUN_FILES["train_log"]),
    log:
        log_of("train", RUN_KEY),
    benchmark:
        benchmark_of("train", RUN_KEY)
    conda:
        "../../envs/train.yaml"
    threads: rule_threads("train")
    resources:
        **rule_resources("train"),
    params:
        spec=lambda wc: training_spec(config, wc.student),
    script:
        "../scripts/train_student.py"
