rule aggregate:
    input:
        predictions=targets.predictions(config),
    output:
        csv=R("results/tables/accuracy.csv"),
        md=R("results/tables/accuracy.md"),
        tex=R("results/tables/accuracy.tex"),
        html=report(
            R("results/tables/accuracy.html"),
            caption="../report/accuracy_table.rst",
            category="Accuracy",
        ),
        runs=R("results/tables/runs.csv"),
        comparisons_csv=R("results/tables/comparisons.csv"),
        comparisons_md=R("results/tables/comparisons.md"),
        comparisons_tex=R("results/tables/comparisons.tex"),
        comparisons_html=report(
            R("results/tables/comparisons.html"),
            caption="../report/comparisons.rst",
            category="Accuracy",
        ),
        plot=report(
            R("results/plots/accuracy.png"),
            caption="../report/accuracy.rst",
            category="Accuracy",
        ),
    log:
        R("results/logs/aggregate.log"),
    benchmark:
        R("results/benchmarks/aggregate.tsv")
    conda:
        "../../envs/report.yaml"
    resources:
        **rule_resources("aggregate"),
    params:
        condition_order=list(config["conditions"]),
    script:
        "../scripts/aggregate_results.py"


rule summary:
    input:
        # verdicts are decided from every run's predictions (intervals, gates, shares)
        predictions=targets.predictions(config),
        emergence=R(targets.LENS_TABLES[1]) if lens_enabled(config) else [],
        lens=targets.lens_claim_tables(config) if lens_enabled(config) else [],
        train_logs=targets.train_logs(config),
        conditions=targets.condition_tables(config),
        rationales=[R(targets.RATIONALES.format(teacher=t, dataset=d)) for t, d in units(config)],
        data=[
            R(f"results/data/{d}/{s}.parquet")
            for d in dict.fromkeys(d for _, d in units(config))
            for s in ("train", "test")
        ],
    output:
        md=R("results/summary.md"),
        csv=R("results/tables/verdicts.csv"),
        html=report(R("results/summary.html"), caption="../report/summary.rst", category="Verdicts"),
    log:
        R("results/logs/summary.log"),
    benchmark:
        R("results/benchmarks/summary.tsv")
    conda:
        "../../envs/report.yaml"
    resources:
        **rule_resources("summary"),
    params:
        verdicts=verdicts_spec(config),
        datasets=config["datasets"],
    script:
        "../scripts/make_summary.py"
