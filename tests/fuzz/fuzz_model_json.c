// fuzz_model_json.c — the model file reader (`--model FILE.json`,
// core/config.c) on any text, from the same defaults as the run flags
// (the small preset, named custom); a shape it reads and validation
// accepts must size without overflow, as `slm info` sizes it.
#include <stdio.h>
#include <stdlib.h>

#include "core/config.h"
#include "fuzz.h"
#include "model/llama.h"
#include "parallel/strategy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = fuzz_text(data, size);
    slm_model_config c;
    slm_err err;
    slm_preset("small", &c, NULL);
    snprintf(c.name, sizeof c.name, "custom");
    fuzz_err_clear(&err);
    int rc = slm_model_config_parse_json(text, "fuzz.json", &c, &err);
    free(text);
    if (rc) {
        fuzz_check_refusal(&err, "the model file reader");
        return 0;
    }
    fuzz_err_clear(&err);
    if (slm_model_config_validate(&c, &err)) {
        fuzz_check_refusal(&err, "model validation");
        return 0;
    }
    slm_param_layout lay;
    slm_param_layout_init(&lay, &c);
    if (lay.n_params != slm_param_count(&c) || slm_param_count(&c) < 1)
        fuzz_fail("the layout holds %lld parameters, slm_param_count says %lld", (long long)lay.n_params,
                  (long long)slm_param_count(&c));
    slm_param_layout_free(&lay);
    slm_act_sizes acts;
    slm_act_sizes_compute(&c, 1, c.seq_len, SLM_ATTN_VANILLA, 1, 4, &acts);
    slm_strategy_cost cost;
    slm_strategy_plan(&c, SLM_STRATEGY_FSDP_FULL, 1, 2, 1, SLM_F32, &cost);
    if (!(slm_flops_per_token(&c, c.seq_len) > 0)) fuzz_fail("flops per token not positive");
    return 0;
}
