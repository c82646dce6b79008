rule attribution:
    # Scores of every training rationale's positions: integrated gradients (captum) of
    # the gold label's log-probability, or the rule-based teacher's known key words.
    input:
        train=R(targets.TRAIN_DATA),
        rationales=R(targets.RATIONALES),
        model=lambda wc: targets.attributor_model_input(
            config, wc.attributor, wc.teacher, wc.dataset
        ),
    output:
        R(targets.SCORES),
    log:
        log_of("attribution", "{attributor}/{teacher}/{dataset}"),
    benchmark:
        benchmark_of("attribution", "{attributor}/{teacher}/{dataset}")
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
        scores=rules.attribution.output[0],
        rationales=R(targets.RATIONALES),
    output:
        report(
            R(targets.ATTRIBUTION_FIGURE),
            caption="../report/attribution_figure.rst",
            category="Attribution",
        ),
    log:
        log_of("attribution_figure", "{attributor}/{teacher}/{dataset}"),
    benchmark:
        benchmark_of("attribution_figure", "{attributor}/{teacher}/{dataset}")
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
        csv=R(targets.ATTRIBUTION_TABLES["csv"]),
        md=R(targets.ATTRIBUTION_TABLES["md"]),
        html=report(
            R(targets.ATTRIBUTION_TABLES["html"]),
            caption="../report/attribution_table.rst",
            category="Attribution",
        ),
    log:
        log_of("attribution_table"),
    benchmark:
        benchmark_of("attribution_table")
    conda:
        "../../envs/report.yaml"
    resources:
        **rule_resources("attribution_table"),
    params:
        units=targets.attribution_units(config),
    script:
        "../scripts/make_attribution_table.py"
