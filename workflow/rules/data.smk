rule data:
    input:
        # the file itself, so that editing a row reruns what depends on it
        lambda wc: dataset_split_files(config, wc.dataset, wc.split),
    output:
        R("results/data/{dataset}/{split}.parquet"),
    log:
        R("results/logs/data/{dataset}/{split}.log"),
    benchmark:
        R("results/benchmarks/data/{dataset}/{split}.tsv")
    conda:
        "../../envs/data.yaml"
    resources:
        **rule_resources("data"),
    params:
        spec=lambda wc: dataset_split_spec(config, wc.dataset, wc.split),
    script:
        "../scripts/make_data.py"
