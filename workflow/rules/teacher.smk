rule teacher:
    input:
        data=R("results/data/{dataset}/{split}.parquet"),
        weights=lambda wc: targets.converted_weights(config, "teachers", wc.teacher),
        files=lambda wc: teacher_split_files(config, wc.teacher, wc.dataset, wc.split),
    output:
        R("results/rationales/{teacher}/{dataset}/{split}.parquet"),
    log:
        R("results/logs/teacher/{teacher}/{dataset}/{split}.log"),
    benchmark:
        R("results/benchmarks/teacher/{teacher}/{dataset}/{split}.tsv")
    conda:
        "../../envs/teacher.yaml"
    resources:
        **rule_resources("teacher"),
    params:
        spec=lambda wc: teacher_spec(config, wc.teacher, wc.dataset),
    script:
        "../scripts/make_rationales.py"
