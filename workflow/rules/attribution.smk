rule attribution:
    # Scores of every training rationale's positions: integrated gradients (captum) of
    # the gold label's log-probability, or the rule-based teacher's known key words.
    input:
        train=R("results/data/{dataset}/train.parquet"),
        rationales=R("results/rationales/{teacher}/{dataset}/train.parquet"),
        model=lambda wc: targets.attributor_model_input(
            config, wc.attributor, wc.teacher, wc.dataset
        ),
    output:
        R("results/attribution/{attributor}/{teacher}/{dataset}/scores.parquet"),
    log:
        R("results/logs/attribution/{attributor}/{teacher}/{dataset}.log"),
    benchmark:
        R("results/benchmarks/attribution/{attributor}/{teacher}/{dataset}.tsv")
    conda:
        "../../envs/attribution.yaml"
    threads: rule_threads("attribution")
    resources:
        **rule_resources("attribution"),
    params:
        spec=lambda wc: attribution_spec(config, wc.attributor, wc.teacher),
    script:
        "../scripts/make_attribution.py"


rule attribution_figure:
    input:
        scores=R("results/attribution/{attributor}/{teacher}/{dataset}/scores.parquet"),
        rationales=R("results/rationales/{teacher}/{dataset}/train.parquet"),
    output:
        report(
            R("results/plots/attribution/{attributor}/{teacher}/{dataset}.png"),
            caption="../report/attribution_figure.rst",
            category="Attribution",
        ),
    log:
        R("results/logs/attribution_figure/{attributor}/{teacher}/{dataset}.log"),
    benchmark:
        R("results/benchmarks/attribution_figure/{attributor}/{teacher}/{dataset}.tsv")
    conda:
        "../../envs/report.yaml"
    resources:
        **rule_resources("attribution_figure"),
    script:
        "../scripts/make_attribution_figure.py"


rule attribution_table:
    input:
        scores=targets.attribution_paths(config, targets.SCORES),
        rationales=targets.attribution_paths(config, targets.RATIONALES),
        data=targets.attribution_paths(config, targets.TRAIN_DATA),  # gold labels and choices
    output:
        csv=R("results/tables/attribution.csv"),
        md=R("results/tables/attribution.md"),
        html=report(
            R("results/tables/attribution.html"),
            caption="../report/attribution_table.rst",
            category="Attribution",
        ),
    log:
        R("results/logs/attribution_table.log"),
    benchmark:
        R("results/benchmarks/attribution_table.tsv")
    conda:
        "../../envs/report.yaml"
    resources:
        **rule_resources("attribution_table"),
    params:
        units=targets.attribution_units(config),
    script:
        "../scripts/make_attribution_table.py"
