// hf_config_write.c — config.json from slm.c's model config (hf_config.h), in
// the 4.x dialect both transformers versions load; floats as the shortest
// decimal that reads back as the same float32 (1e-05, not 9.99999975e-06).
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/hf_config.h"
#include "core/json_file.h"

// The shortest %g of f that strtof reads back as f, as a double.
static double shortest(float f) {
    char text[32];
    for (int digits = 1; digits < 9; digits++) {
        snprintf(text, sizeof text, "%.*g", digits, (double)f);
        if (strtof(text, NULL) == f) return strtod(text, NULL);
    }
    return (double)f;
}

static cJSON *rope_scaling(const slm_rope_scaling *s) {
    if (!s->factor) return cJSON_CreateNull();
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "rope_type", "llama3");
    cJSON_AddNumberToObject(o, "factor", shortest(s->factor));
    cJSON_AddNumberToObject(o, "low_freq_factor", shortest(s->low_freq_factor));
    cJSON_AddNumberToObject(o, "high_freq_factor", shortest(s->high_freq_factor));
    cJSON_AddNumberToObject(o, "original_max_position_embeddings", s->original_max_pos);
    return o;
}

int slm_hf_config_write(const char *path, const slm_model_config *c, int bf16, slm_err *err) {
    cJSON *o = cJSON_CreateObject(), *arch = cJSON_AddArrayToObject(o, "architectures");
    cJSON_AddItemToArray(arch, cJSON_CreateString("LlamaForCausalLM"));
    cJSON_AddStringToObject(o, "model_type", "llama");
    cJSON_AddNumberToObject(o, "hidden_size", c->d_model);
    cJSON_AddNumberToObject(o, "intermediate_size", c->ffn_dim);
    cJSON_AddNumberToObject(o, "num_hidden_layers", c->n_layers);
    cJSON_AddNumberToObject(o, "num_attention_heads", c->n_heads);
    cJSON_AddNumberToObject(o, "num_key_value_heads", c->n_kv_heads);
    cJSON_AddNumberToObject(o, "head_dim", slm_head_dim(c));
    cJSON_AddNumberToObject(o, "vocab_size", c->vocab);
    cJSON_AddNumberToObject(o, "max_position_embeddings", c->seq_len);
    cJSON_AddNumberToObject(o, "rms_norm_eps", shortest(c->norm_eps));
    cJSON_AddNumberToObject(o, "rope_theta", shortest(c->rope_theta));
    cJSON_AddItemToObject(o, "rope_scaling", rope_scaling(&c->rope_scaling));
    cJSON_AddBoolToObject(o, "tie_word_embeddings", c->tie_embeddings);
    cJSON_AddStringToObject(o, "hidden_act", "silu");
    cJSON_AddBoolToObject(o, "attention_bias", 0);
    cJSON_AddBoolToObject(o, "mlp_bias", 0);
    cJSON_AddNumberToObject(o, "attention_dropout", 0.0);
    cJSON_AddNumberToObject(o, "initializer_range", 0.02);
    cJSON_AddNullToObject(o, "bos_token_id");  // slm.c's models know no special tokens
    cJSON_AddNullToObject(o, "eos_token_id");
    cJSON_AddBoolToObject(o, "use_cache", 1);
    cJSON_AddStringToObject(o, "torch_dtype", bf16 ? "bfloat16" : "float32");
    int rc = slm_json_write_file(path, "config.json", o, err);
    cJSON_Delete(o);
    return rc;
}
