rule teacher:
    input:
        data=rules.data.output[0],
        weights=lambda wc: targets.converted_weights(config, "teachers", wc.teacher),
        files=lambda wc: teacher_split_files(config, wc.teacher, wc.dataset, wc.split),
    output:
        R(targets.TEACHER),
    log:
        log_of("teacher", "{teacher}/{dataset}/{split}"),
    benchmark:
        benchmark_of("teacher", "{teacher}/{dataset}/{split}")
    conda:
        "../../envs/teacher.yaml"
    resources:
        **rule_resources("teacher"),
    params:
        spec=lambda wc: teacher_spec(config, wc.teacher, wc.dataset),
    script:
        "../scripts/make_rationales.py"
