rule student_base:
    input:
        # a scratch tokenizer is trained on the data and rationales; a pretrained
        # student's is its own, so rationales changing rebuild nothing for it
        train=lambda wc: scratch_only(wc, R("results/data/{dataset}/train.parquet")),
        rationales=lambda wc: scratch_only(
            wc, R("results/rationales/{teacher}/{dataset}/train.parquet")
        ),
        weights=lambda wc: targets.converted_weights(config, "students", wc.student),
    output:
        directory(R(targets.BASE)),
    log:
        R("results/logs/student_base/{student}/{teacher}/{dataset}.log"),
    benchmark:
        R("results/benchmarks/student_base/{student}/{teacher}/{dataset}.tsv")
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
        base=R(targets.BASE),
        rows=lambda wc: targets.condition_train(
            config, wc.teacher, wc.dataset, wc.condition, wc.seed
        ),
    output:
        model=run_weights(
            R("results/runs/{student}/{teacher}/{dataset}/{condition}/seed{seed}/model")
        ),
        log=R("results/runs/{student}/{teacher}/{dataset}/{condition}/seed{seed}/train_log.parquet"),
    log:
        R("results/logs/train/{student}/{teacher}/{dataset}/{condition}/seed{seed}.log"),
    benchmark:
        R("results/benchmarks/train/{student}/{teacher}/{dataset}/{condition}/seed{seed}.tsv")
    conda:
        "../../envs/train.yaml"
    threads: rule_threads("train")
    resources:
        **rule_resources("train"),
    params:
        spec=lambda wc: training_spec(config, wc.student),
    script:
        "../scripts/train_student.py"
