rule data:
    output:
        "results/data/{dataset}/{split}.parquet",
    params:
        spec=lambda wc: config["datasets"][wc.dataset],
    log:
        "results/logs/data/{dataset}/{split}.log",
    benchmark:
        "results/benchmarks/data/{dataset}/{split}.tsv"
    conda:
        "../../envs/data.yaml"
    script:
        "../scripts/make_data.py"
