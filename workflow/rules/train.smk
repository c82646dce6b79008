rule student_base:
    input:
        train="results/data/{dataset}/train.parquet",
        rationales="results/rationales/{teacher}/{dataset}/train.parquet",
        weights=lambda wc: targets.converted_weights(config, "students", wc.student),
    output:
        directory("results/students/{student}/{teacher}/{dataset}/base"),
    params:
        spec=lambda wc: student_base_spec(config, wc.student),
    log:
        "results/logs/student_base/{student}/{teacher}/{dataset}.log",
    benchmark:
        "results/benchmarks/student_base/{student}/{teacher}/{dataset}.tsv"
    conda:
        "../../envs/train.yaml"
    script:
        "../scripts/make_student_base.py"


rule train:
    input:
        base="results/students/{student}/{teacher}/{dataset}/base",
        rows="results/conditions/{teacher}/{dataset}/{condition}/train.parquet",
    output:
        model=directory("results/runs/{student}/{teacher}/{dataset}/{condition}/seed{seed}/model"),
        log="results/runs/{student}/{teacher}/{dataset}/{condition}/seed{seed}/train_log.parquet",
    params:
        spec=lambda wc: training_spec(config, wc.student),
    threads: targets.threads_for(config, "train")
    resources:
        **targets.resources_for(config, "train"),
    log:
        "results/logs/train/{student}/{teacher}/{dataset}/{condition}/seed{seed}.log",
    benchmark:
        "results/benchmarks/train/{student}/{teacher}/{dataset}/{condition}/seed{seed}.tsv"
    conda:
        "../../envs/train.yaml"
    script:
        "../scripts/train_student.py"
