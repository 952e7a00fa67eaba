// config.h — the model's shape, the presets, and validation at the edge.
// Names follow LLaMA / Hugging Face: d_model is hidden_size, ffn_dim is
// intermediate_size, n_kv_heads is num_key_value_heads. head_dim = d_model / n_heads.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

// Llama 3.1's fixed rescaling of RoPE's inverse frequencies (transformers'
// rope type "llama3"): wavelengths longer than original_max_pos / low_freq_factor
// are divided by factor, shorter than original_max_pos / high_freq_factor
// kept, those between interpolated. factor 0: none (plain RoPE), the value of
// every preset and model file, so their configs, checkpoints and hashes stay
// what they were.
typedef struct {
    float factor;
    float low_freq_factor, high_freq_factor;
    int original_max_pos;  // the context the model was pretrained at
} slm_rope_scaling;

typedef struct {
    char name[32];  // preset name, or "custom"
    int n_layers;
    int d_model;
    int n_heads;
    int n_kv_heads;  // divides n_heads (grouped-query attention)
    int ffn_dim;     // SwiGLU hidden width
    int vocab;
    int seq_len;  // maximum sequence length
    float rope_theta;
    float norm_eps;
    int tie_embeddings;  // LM head shares the token embedding
    slm_rope_scaling rope_scaling;
} slm_model_config;

static inline int slm_head_dim(const slm_model_config *c) { return c->d_model / c->n_heads; }

// Fills *c with the named preset; -1 when the name is unknown.
int slm_preset(const char *name, slm_model_config *c, slm_err *err);
// NULL-terminated list of preset names, in size order.
extern const char *const slm_preset_names[];

// Reads a JSON model file with the record's shape names (n_layers, d_model,
// n_heads, n_kv_heads, ffn_dim, vocab, seq_len, rope_theta, norm_eps,
// tie_embeddings). Missing fields keep the values already in *c.
int slm_model_config_read_json(const char *path, slm_model_config *c, slm_err *err);
// The same from the file's text (NUL-terminated; path for messages).
int slm_model_config_parse_json(const char *text, const char *path, slm_model_config *c, slm_err *err);

// Every shape rule in one place: positive sizes, heads divide the width,
// kv heads divide heads, even head dim (RoPE), sane eps, theta and RoPE scaling.
int slm_model_config_validate(const slm_model_config *c, slm_err *err);

// The shape in words, for messages: "layers 4, d_model 128, heads 4/2, ffn 512,
// vocab 512, seq 256, tied 0, theta 10000, eps 1e-05" and the RoPE scaling when on.
void slm_model_config_describe(const slm_model_config *c, char *out, size_t len);

// SwiGLU width in LLaMA proportions: 8/3 * d rounded up to a multiple of 256.
int slm_llama_ffn_dim(int d_model);

// Exact parameter count (norm weights included; the head counted once when tied).
// The counts are of a shape within validation's size bounds with at most
// d_model heads and at most n_heads kv heads; of another (a record of a
// configuration that could not run may hold any), -1 and NaN.
int64_t slm_param_count(const slm_model_config *c);
// Parameters in matrices that are multiplied: every block matrix and the LM
// head (the embedding lookup is not a multiply). The N of 6N + 12·L·H·Q·T.
int64_t slm_matmul_param_count(const slm_model_config *c);
// Model FLOPs per token at sequence length T (docs/benchmarks.md):
// 6·N + 12·L·H·Q·T. Recomputation is not counted.
double slm_flops_per_token(const slm_model_config *c, int T);
