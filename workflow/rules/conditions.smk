# A condition's training table is one per random draw: conditions that draw at random
# (shuffles, random words) make one per training seed ({draw} = the seed), the others
# one for every seed ({draw} = 0; targets.condition_train says which). The test table
# has its own job, which also stops on test questions that are in train: training reads
# no test row, so a test-only edit re-evaluates but retrains nothing.
rule conditions:
    input:
        train=R(targets.TRAIN_DATA),
        rationales=R(targets.RATIONALES),
        # only the conditions that read attribution scores (conditions.needs_scores)
        scores=lambda wc: targets.scores_input(config, wc.condition, wc.teacher, wc.dataset),
    output:
        train=R(targets.CONDITION_TRAIN),
    log:
        log_of("conditions", "{teacher}/{dataset}/{condition}/draw{draw}"),
    benchmark:
        benchmark_of("conditions", "{teacher}/{dataset}/{condition}/draw{draw}")
    conda:
        "../../envs/data.yaml"
    resources:
        **rule_resources("conditions"),
    params:
        spec=lambda wc: config["conditions"][wc.condition],
        only_correct=lambda wc: bool(config["teachers"][wc.teacher].get("only_correct")),
    script:
        "../scripts/make_conditions.py"


rule condition_test:
    input:
        train=R(targets.TRAIN_DATA),
        test=R(targets.TEST_DATA),
    output:
        test=R(targets.CONDITION_TEST),
    log:
        log_of("condition_test", "{teacher}/{dataset}/{condition}"),
    benchmark:
        benchmark_of("condition_test", "{teacher}/{dataset}/{condition}")
    conda:
        "../../envs/data.yaml"
    resources:
        **rule_resources("condition_test"),
    params:
        rationale_first=lambda wc: targets.rationale_first(config, wc.condition),
        allow_overlap=lambda wc: bool(config["datasets"][wc.dataset].get("allow_overlap")),
    script:
        "../scripts/make_condition_test.py"
