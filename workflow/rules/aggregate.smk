rule aggregate:
    input:
        predictions=lambda wc: [f"{run}/predictions.parquet" for run in run_dirs()],
    output:
        csv="results/tables/accuracy.csv",
        md="results/tables/accuracy.md",
        runs="results/tables/runs.csv",
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
