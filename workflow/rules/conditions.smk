rule conditions:
    input:
        train=R("results/data/{dataset}/train.parquet"),
        test=R("results/data/{dataset}/test.parquet"),
        rationales=R("results/rationales/{teacher}/{dataset}/train.parquet"),
        # only the conditions that read attribution scores (conditions.needs_scores)
        scores=lambda wc: targets.scores_input(config, wc.condition, wc.teacher, wc.dataset),
    output:
        train=R("results/conditions/{teacher}/{dataset}/{condition}/train.parquet"),
        test=R("results/conditions/{teacher}/{dataset}/{condition}/test.parquet"),
    params:
        spec=lambda wc: config["conditions"][wc.condition],
        only_correct=lambda wc: bool(config["teachers"][wc.teacher].get("only_correct", False)),
        allow_overlap=lambda wc: bool(config["datasets"][wc.dataset].get("allow_overlap", False)),
    resources:
        **rule_resources("conditions"),
    log:
        R("results/logs/conditions/{teacher}/{dataset}/{condition}.log"),
    benchmark:
        R("results/benchmarks/conditions/{teacher}/{dataset}/{condition}.tsv")
    conda:
        "../../envs/data.yaml"
    script:
        "../scripts/make_conditions.py"
