ACCURACY = {name: R(path) for name, path in targets.ACCURACY_TABLES.items()}
SUMMARY = {name: R(path) for name, path in targets.SUMMARY.items()}


rule aggregate:
    input:
        predictions=targets.predictions(config),
    output:
        csv=ACCURACY["csv"],
        md=ACCURACY["md"],
        tex=ACCURACY["tex"],
        html=report(ACCURACY["html"], caption="../report/accuracy_table.rst", category="Accuracy"),
        runs=ACCURACY["runs"],
        comparisons_csv=ACCURACY["comparisons_csv"],
        comparisons_md=ACCURACY["comparisons_md"],
        comparisons_tex=ACCURACY["comparisons_tex"],
        comparisons_html=report(
            ACCURACY["comparisons_html"], caption="../report/comparisons.rst", category="Accuracy"
        ),
        plot=report(ACCURACY["plot"], caption="../report/accuracy.rst", category="Accuracy"),
    log:
        log_of("aggregate"),
    benchmark:
        benchmark_of("aggregate")
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
        emergence=rules.lens_tables.output.csv if lens_enabled(config) else [],
        lens=targets.lens_claim_tables(config) if lens_enabled(config) else [],
        train_logs=targets.train_logs(config),
        conditions=targets.condition_tables(config),
        rationales=[R(targets.RATIONALES.format(teacher=t, dataset=d)) for t, d in units(config)],
        data=[
            R(targets.DATA.format(dataset=d, split=s))
            for d in dict.fromkeys(d for _, d in units(config))
            for s in ("train", "test")
        ],
    output:
        md=SUMMARY["md"],
        csv=SUMMARY["csv"],
        html=report(SUMMARY["html"], caption="../report/summary.rst", category="Verdicts"),
    log:
        log_of("summary"),
    benchmark:
        benchmark_of("summary")
    conda:
        "../../envs/report.yaml"
    resources:
        **rule_resources("summary"),
    params:
        verdicts=verdicts_spec(config),
        datasets=config["datasets"],
    script:
        "../scripts/make_summary.py"
