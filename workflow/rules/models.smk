rule convert_model:
    # GGUF sources are dequantised once into a safetensors folder that later jobs load fast.
    output:
        directory("results/models/{owner}/{name}"),
    params:
        spec=lambda wc: model_source(config, wc.owner, wc.name),
    resources:
        **targets.resources_for(config, "convert"),
    log:
        "results/logs/convert_model/{owner}/{name}.log",
    benchmark:
        "results/benchmarks/convert_model/{owner}/{name}.tsv"
    conda:
        "../../envs/train.yaml"
    script:
        "../scripts/convert_model.py"
