rule evaluate:
    input:
        model=R("results/runs/{student}/{teacher}/{dataset}/{condition}/seed{seed}/model"),
        lora_base=lambda wc: targets.adapter_base(config, wc.student, wc.teacher, wc.dataset),
        test=R("results/conditions/{teacher}/{dataset}/{condition}/test.parquet"),
    output:
        predictions=R("results/runs/{student}/{teacher}/{dataset}/{condition}/seed{seed}/predictions.parquet"),
        metrics=R("results/runs/{student}/{teacher}/{dataset}/{condition}/seed{seed}/metrics.json"),
    params:
        spec=config.get("evaluation", {}),
    threads: rule_threads("evaluate")
    resources:
        **rule_resources("evaluate"),
    log:
        R("results/logs/evaluate/{student}/{teacher}/{dataset}/{condition}/seed{seed}.log"),
    benchmark:
        R("results/benchmarks/evaluate/{student}/{teacher}/{dataset}/{condition}/seed{seed}.tsv")
    conda:
        "../../envs/train.yaml"
    script:
        "../scripts/evaluate_student.py"
