# Each run's lens.parquet is written by its evaluate job (evaluate.smk).


rule lens_tables:
    input:
        targets.lens_tables(config),
    output:
        curves=R(targets.LENS_TABLES[0]),
        csv=R(targets.LENS_TABLES[1]),
        md=R(targets.LENS_TABLES[2]),
        html=report(
            R(targets.LENS_TABLES[3]),
            caption="../report/lens_emergence.rst",
            category="Lens",
        ),
    log:
        R("results/logs/lens_tables.log"),
    benchmark:
        R("results/benchmarks/lens_tables.tsv")
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
            R("results/plots/lens/{student}/{teacher}/{dataset}.png"),
            caption="../report/lens.rst",
            category="Lens",
            subcategory="{student} / {teacher} / {dataset}",
        ),
    log:
        R("results/logs/lens_plot/{student}/{teacher}/{dataset}.log"),
    benchmark:
        R("results/benchmarks/lens_plot/{student}/{teacher}/{dataset}.tsv")
    conda:
        "../../envs/report.yaml"
    resources:
        **rule_resources("lens_plot"),
    params:
        condition_order=list(config["conditions"]),
    script:
        "../scripts/make_lens_plot.py"
