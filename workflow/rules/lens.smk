# Each run's lens.parquet is written by its evaluate job (evaluate.smk).


rule lens_tables:
    input:
        targets.lens_tables(config),
    output:
        curves=R(targets.LENS_TABLES["curves"]),
        csv=R(targets.LENS_TABLES["csv"]),
        md=R(targets.LENS_TABLES["md"]),
        html=report(
            R(targets.LENS_TABLES["html"]),
            caption="../report/lens_emergence.rst",
            category="Lens",
        ),
    log:
        log_of("lens_tables"),
    benchmark:
        benchmark_of("lens_tables")
    conda:
        "../../envs/report.yaml"
    resources:
        **rule_resources("lens_tables"),
    params:
        fraction=lens_emergence(config),
        condition_order=list(config["conditions"]),
    script:
        "../scripts/make_lens_tables.py"


rule lens_plot:
    input:
        lambda wc: targets.lens_tables(config, wc.student, wc.teacher, wc.dataset),
    output:
        report(
            R(targets.LENS_PLOT),
            caption="../report/lens.rst",
            category="Lens",
            subcategory="{student} / {teacher} / {dataset}",
        ),
    log:
        log_of("lens_plot", "{student}/{teacher}/{dataset}"),
    benchmark:
        benchmark_of("lens_plot", "{student}/{teacher}/{dataset}")
    conda:
        "../../envs/report.yaml"
    resources:
        **rule_resources("lens_plot"),
    params:
        condition_order=list(config["conditions"]),
    script:
        "../scripts/make_lens_plot.py"
