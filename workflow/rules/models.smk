rule convert_model:
    # GGUF sources are dequantised once into a safetensors folder that later jobs load fast.
    output:
        directory(R("results/models/{owner}/{name}")),
    log:
        R("results/logs/convert_model/{owner}/{name}.log"),
    benchmark:
        R("results/benchmarks/convert_model/{owner}/{name}.tsv")
    conda:
        "../../envs/train.yaml"
    resources:
        **rule_resources("convert_model"),
    params:
        spec=lambda wc: model_source(config, wc.owner, wc.name),
    script:
        "../scripts/convert_model.py"
