// test_hf_config.c — config.json as slm.c's model config (core/hf_config.h):
// each fixture's config in both dialects (tests/data/hf/*/config.json as
// transformers 5.23 wrote it, config_v4.json in the 4.x dialect) reads into
// the same, expected config; a written config reads back the same; missing
// keys take LlamaConfig's defaults; every refusal names its key; and the
// Llama 3.1 8B RoPE inverse frequencies (head dim 128, theta 500000, factor 8,
// low/high 1/4, original context 8192) match transformers' bit for bit
// (_compute_llama3_parameters, torch 2.15, transformers 5.23: the float32 bits below).
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hf_config.h"
#include "core/json_file.h"
#include "model/llama.h"
#include "testutil.h"

static int same_config(const slm_model_config *a, const slm_model_config *b) {
    return a->n_layers == b->n_layers && a->d_model == b->d_model && a->n_heads == b->n_heads &&
           a->n_kv_heads == b->n_kv_heads && a->ffn_dim == b->ffn_dim && a->vocab == b->vocab &&
           a->seq_len == b->seq_len && a->tie_embeddings == b->tie_embeddings && a->rope_theta == b->rope_theta &&
           a->norm_eps == b->norm_eps && !memcmp(&a->rope_scaling, &b->rope_scaling, sizeof a->rope_scaling);
}

static void check_fixtures(void) {
    static const struct {
        const char *dir;
        int kv, tied;
        float theta;
        slm_rope_scaling scaling;
    } fx[] = {{"untied", 2, 0, 10000, {0}},
              {"tied", 2, 1, 10000, {0}},
              {"bf16", 2, 0, 10000, {0}},
              {"sharded", 4, 0, 10000, {0}},
              {"llama3", 2, 0, 100, {4, 1, 4, 32}}};
    for (size_t i = 0; i < sizeof fx / sizeof fx[0]; i++) {
        char p5[256], p4[256], out[4096];
        snprintf(p5, sizeof p5, "tests/data/hf/%s/config.json", fx[i].dir);
        snprintf(p4, sizeof p4, "tests/data/hf/%s/config_v4.json", fx[i].dir);
        slm_model_config c5, c4, back,
            want = {.n_layers = 2,
                    .d_model = 32,
                    .n_heads = 4,
                    .n_kv_heads = fx[i].kv,
                    .ffn_dim = 48,
                    .vocab = 64,
                    .seq_len = 128,
                    .rope_theta = fx[i].theta,
                    .norm_eps = 1e-5f,
                    .tie_embeddings = fx[i].tied,
                    .rope_scaling = fx[i].scaling};
        slm_err err = {{0}};
        int ok = !slm_hf_config_read(t_source_path(p5), fx[i].dir, &c5, &err) &&
                 !slm_hf_config_read(t_source_path(p4), fx[i].dir, &c4, &err);
        t_check(ok && same_config(&c5, &want) && same_config(&c4, &want) && !strcmp(c5.name, fx[i].dir),
                "%s: the 5.x and the 4.x dialect read as the expected config%s%s", fx[i].dir, ok ? "" : ": ", err.msg);
        snprintf(out, sizeof out, "%s", t_tmp_path("config.json"));
        ok = ok && !slm_hf_config_write(out, &c5, 0, &err) && !slm_hf_config_read(out, "x", &back, &err);
        t_check(ok && same_config(&back, &c5), "%s: written and read back, the same%s%s", fx[i].dir, ok ? "" : ": ",
                err.msg);
    }
}

// The untied fixture's config with key set to the JSON `value` (NULL: removed), read; the message holds `want`.
static void refused(const char *key, const char *value, const char *want) {
    slm_err err;
    cJSON *root = slm_json_read_file(t_source_path("tests/data/hf/untied/config_v4.json"), "config", &err);
    cJSON_DeleteItemFromObjectCaseSensitive(root, key);
    if (value) cJSON_AddItemToObject(root, key, cJSON_Parse(value));
    const char *path = t_tmp_path("refused.json");
    slm_json_write_file(path, "config", root, &err);
    cJSON_Delete(root);
    slm_model_config c;
    int rc = slm_hf_config_read(path, "x", &c, &err);
    t_check(rc == -1 && strstr(err.msg, want) && strstr(err.msg, "refused.json: "), "%s %s is refused: %s", key,
            value ? value : "(absent)", rc ? err.msg : "read");
}

static void check_refusals(void) {
    refused("hidden_act", "\"gelu\"", "hidden_act gelu is not silu");
    refused("attention_bias", "true", "attention_bias is true");
    refused("mlp_bias", "true", "mlp_bias is true");
    refused("sliding_window", "4096", "sliding_window 4096");
    refused("use_sliding_window", "true", "use_sliding_window is true");
    refused("layer_types", "[\"full_attention\", \"sliding_attention\"]", "layer_types holds \"sliding_attention\"");
    refused("architectures", "[\"MistralForCausalLM\"]", "architectures MistralForCausalLM is not");
    refused("model_type", "\"mistral\"", "model_type mistral is not \"llama\"");
    refused("rope_scaling", "{\"rope_type\": \"yarn\", \"factor\": 4.0}",
            "rope_scaling type \"yarn\" is not supported");
    refused("rope_scaling", "{\"type\": \"dynamic\", \"factor\": 2.0}", "rope_scaling type \"dynamic\"");
    refused("rope_scaling", "{\"rope_type\": \"linear\", \"factor\": 2.0}", "rope_scaling type \"linear\"");
    refused("rope_parameters", "{\"rope_type\": \"longrope\", \"rope_theta\": 10000.0}",
            "rope_parameters type \"longrope\"");
    refused("rope_scaling", "{\"rope_type\": \"llama3\", \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0}",
            "rope_scaling \"factor\" is missing");
    refused("head_dim", "16", "head_dim 16 is not hidden_size / num_attention_heads = 32 / 4");
    refused("hidden_size", NULL, "\"hidden_size\" is missing");
    refused("vocab_size", "\"64\"", "\"vocab_size\" must be a number");
    refused("num_key_value_heads", "3", "not a model slm.c runs: n_kv_heads (3) must divide n_heads (4)");
    refused("partial_rotary_factor", "0.5", "partial_rotary_factor 0.5");
    refused("attention_dropout", "0.1", "attention_dropout 0.1");
    refused("quantization_config", "{\"quant_method\": \"gptq\"}", "quantization_config");
    refused("tie_word_embeddings", "\"yes\"", "\"tie_word_embeddings\" must be true or false");
}

// Keys left out take LlamaConfig's defaults; llama3's original context falls back to max_position_embeddings.
static void check_defaults(void) {
    const char *path = t_tmp_path("minimal.json");
    const char *minimal =
        "{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 64, \"intermediate_size\": 128,"
        " \"num_hidden_layers\": 1, \"num_attention_heads\": 4, \"vocab_size\": 300}";
    t_write_file("minimal.json", minimal, strlen(minimal));
    slm_model_config c;
    slm_err err;
    int ok = !slm_hf_config_read(path, "m", &c, &err);
    t_check(ok && c.n_kv_heads == 4 && c.seq_len == 2048 && c.norm_eps == 1e-6f && c.rope_theta == 10000.0f &&
                !c.tie_embeddings && !c.rope_scaling.factor,
            "a minimal config: kv heads = heads, context 2048, eps 1e-6, theta 10000, untied, no scaling");
    const char *v5 =
        "{\"model_type\": \"llama\", \"hidden_size\": 64, \"intermediate_size\": 128,"
        " \"num_hidden_layers\": 1, \"num_attention_heads\": 4, \"vocab_size\": 300,"
        " \"max_position_embeddings\": 4096, \"rope_parameters\": {\"rope_type\": \"llama3\","
        " \"rope_theta\": 500000.0, \"factor\": 8.0, \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0}}";
    t_write_file("v5.json", v5, strlen(v5));
    ok = !slm_hf_config_read(t_tmp_path("v5.json"), "m", &c, &err);
    t_check(ok && c.rope_theta == 500000.0f && c.rope_scaling.factor == 8.0f && c.rope_scaling.original_max_pos == 4096,
            "rope_parameters without original_max_position_embeddings: max_position_embeddings (%d)",
            ok ? c.rope_scaling.original_max_pos : -1);
}

static void check_llama3_inv_freq(void) {
    static const uint32_t want[64] = {
        0x3f800000, 0x3f508ac1, 0x3f29e1c6, 0x3f0a6384, 0x3ee177bc, 0x3eb7ab7d, 0x3e959ee3, 0x3e73c461,
        0x3e4693b0, 0x3e21c3a0, 0x3e03c6a0, 0x3dd6b19c, 0x3daee4ad, 0x3d8e7898, 0x3d681e67, 0x3d3d1684,
        0x3d1a08c8, 0x3cfaf53f, 0x3ccc6f49, 0x3ca68939, 0x3c87a9c3, 0x3c5d06ec, 0x3c340d6d, 0x3c12ac7f,
        0x3beef74f, 0x3bc2aa76, 0x3b9e9402, 0x3b812e35, 0x3b527720, 0x3b0dfd06, 0x3ab3d11d, 0x3a60979e,
        0x3a0995d2, 0x39a3f108, 0x393b2dd2, 0x38c86886, 0x38a3418d, 0x3884fdbf, 0x3858ac81, 0x38308199,
        0x380fc8f8, 0x37ea426f, 0x37bed4f4, 0x379b7475, 0x377d45c3, 0x374e51f5, 0x3728126b, 0x3708ea0f,
        0x36df10c4, 0x36b5b687, 0x369406cb, 0x36712b80, 0x36447610, 0x36200a69, 0x36025f34, 0x35d46808,
        0x35ad07a7, 0x358cf400, 0x3565a54d, 0x353b12c7, 0x351864a7, 0x34f848c2, 0x34ca41b0, 0x34a4c2ff};
    slm_model_config c = {.d_model = 4096, .n_heads = 32, .rope_theta = 500000.0f};
    c.rope_scaling = (slm_rope_scaling){8.0f, 1.0f, 4.0f, 8192};
    int same = 0, off_by_one = 0;
    for (int i = 0; i < 64; i++) {
        float f = slm_rope_inv_freq(&c, i);
        uint32_t u;
        memcpy(&u, &f, 4);
        same += u == want[i];
        off_by_one += u == want[i] + 1 || u + 1 == want[i];
    }
    t_check(same + off_by_one == 64, "Llama 3.1 8B's 64 RoPE inverse frequencies: %d bit for bit, %d within one ulp",
            same, off_by_one);
}

int main(void) {
    check_fixtures();
    check_refusals();
    check_defaults();
    check_llama3_inv_freq();
    return t_finish("test_hf_config");
}
