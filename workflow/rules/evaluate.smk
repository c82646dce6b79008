rule evaluate:
    input:
        model=RUN + "/model",
        test="results/conditions/{teacher}/{dataset}/{condition}/test.parquet",
    output:
        predictions=RUN + "/predictions.parquet",
        metrics=RUN + "/metrics.json",
    params:
        spec=config.get("evaluation", {}),
    threads: threads_for("train")
    resources:
        **resources_for("evaluate"),
    log:
        "results/logs/evaluate/{student}/{teacher}/{dataset}/{condition}/seed{seed}.log",
    benchmark:
        "results/benchmarks/evaluate/{student}/{teacher}/{dataset}/{condition}/seed{seed}.tsv"
    conda:
        "../../envs/train.yaml"
    script:
        "../scripts/evaluate_student.py"
