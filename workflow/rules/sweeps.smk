# Accuracy over each sweep's budget (config "sweeps:"): a table, the smallest budget
# that keeps the rationale's benefit, and a curve plot per (student, teacher, dataset).


rule sweeps:
    input:
        predictions=lambda wc: targets.sweep_inputs(config)["predictions"],
        conditions=lambda wc: targets.sweep_inputs(config)["conditions"],
    output:
        csv=R(targets.SWEEP_TABLES["csv"]),
        md=R(targets.SWEEP_TABLES["md"]),
        html=report(
            R(targets.SWEEP_TABLES["html"]),
            caption="../report/sweeps_table.rst",
            category="Sweeps",
        ),
        plots=[
            report(
                path,
                caption="../report/sweeps.rst",
                category="Sweeps",
                subcategory=" / ".join(unit),
            )
            for unit, path in targets.sweep_plots(config).items()
        ],
    log:
        log_of("sweeps"),
    benchmark:
        benchmark_of("sweeps")
    conda:
        "../../envs/report.yaml"
    resources:
        **rule_resources("sweeps"),
    params:
        points=[vars(p) for p in sweeps.points(config)],
        verdicts=verdicts_spec(config),
        units=list(targets.sweep_plots(config)),
    script:
        "../scripts/make_sweeps.py"
