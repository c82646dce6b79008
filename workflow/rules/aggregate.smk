rule aggregate:
    input:
        predictions=targets.predictions(config),
    output:
        csv="results/tables/accuracy.csv",
        md="results/tables/accuracy.md",
        tex="results/tables/accuracy.tex",
        html=report(
            "results/tables/accuracy.html",
            caption="../report/accuracy_table.rst",
            category="Accuracy",
        ),
        runs="results/tables/runs.csv",
        comparisons_csv="results/tables/comparisons.csv",
        comparisons_md="results/tables/comparisons.md",
        comparisons_tex="results/tables/comparisons.tex",
        comparisons_html=report(
            "results/tables/comparisons.html",
            caption="../report/comparisons.rst",
            category="Accuracy",
        ),
        plot=report(
            "results/plots/accuracy.png",
            caption="../report/accuracy.rst",
            category="Accuracy",
        ),
    params:
        condition_order=list(config["conditions"]),
    log:
        "results/logs/aggregate.log",
    benchmark:
        "results/benchmarks/aggregate.tsv"
    conda:
        "../../envs/report.yaml"
    script:
        "../scripts/aggregate_results.py"


rule summary:
    input:
        comparisons="results/tables/comparisons.csv",
        emergence=targets.LENS_TABLES[1] if lens_enabled(config) else [],
    output:
        md="results/summary.md",
        csv="results/tables/verdicts.csv",
        html=report("results/summary.html", caption="../report/summary.rst", category="Verdicts"),
    params:
        metric=verdicts_spec(config)["metric"],
        margin=verdicts_spec(config)["margin"],
        datasets=config["datasets"],
    log:
        "results/logs/summary.log",
    benchmark:
        "results/benchmarks/summary.tsv"
    conda:
        "../../envs/report.yaml"
    script:
        "../scripts/make_summary.py"
