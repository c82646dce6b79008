rule data:
    input:
        # the file itself, so that editing a row reruns what depends on it
        lambda wc: dataset_split_files(config, wc.dataset, wc.split),
    output:
        R(targets.DATA),
    log:
        log_of("data", "{dataset}/{split}"),
    benchmark:
        benchmark_of("data", "{dataset}/{split}")
    conda:
        "../../envs/data.yaml"
    resources:
        **rule_resources("data"),
    params:
        spec=lambda wc: dataset_split_spec(config, wc.dataset, wc.split),
    script:
        "../scripts/make_data.py"
