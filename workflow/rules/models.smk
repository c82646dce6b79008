rule convert_model:
    # GGUF sources are dequantised once into a safetensors folder that later jobs load fast.
    output:
        directory(R(targets.MODEL)),
    log:
        log_of("convert_model", "{owner}/{name}"),
    benchmark:
        benchmark_of("convert_model", "{owner}/{name}")
    conda:
        "../../envs/train.yaml"
    resources:
        **rule_resources("convert_model"),
    params:
        spec=lambda wc: model_source(config, wc.owner, wc.name),
    script:
        "../scripts/convert_model.py"
