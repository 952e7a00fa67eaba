// hf_config.h — a Hugging Face config.json as slm.c's model config, and back.
//
// Read, both dialects transformers writes: 4.x (rope_theta and rope_scaling at
// the top level, torch_dtype) and 5.x (rope_parameters holding rope_theta and
// rope_type, dtype); where both are present rope_scaling wins, as in 5.x.
// Missing keys take LlamaConfig's defaults (num_key_value_heads = heads,
// max_position_embeddings 2048, rms_norm_eps 1e-6, rope_theta 10000, untied).
// Refused by name, with the reason, whatever slm.c's graph would run
// differently: an architecture other than LlamaForCausalLM, hidden_act other
// than silu, attention_bias or mlp_bias true, sliding windows, a head_dim
// other than hidden_size / num_attention_heads, RoPE types other than default
// and llama3, partial rotary factors, attention dropout, quantized weights.
//
// Written in the 4.x dialect, which both versions load (5.x turns
// rope_theta and rope_scaling into rope_parameters; 4.x ignores a
// rope_parameters key and would run with rope_theta 10000).
#pragma once
#include "core/config.h"
#include "core/err.h"

// Reads config.json at path into *c, named `name` (31 bytes kept). -1 with err
// "PATH: ..." when it is not a config slm.c runs alike; *c is then unchanged.
int slm_hf_config_read(const char *path, const char *name, slm_model_config *c, slm_err *err);

// Writes c as config.json at path (atomic), torch_dtype "float32" or
// "bfloat16" as the weights are stored (bf16: 1, else 0).
int slm_hf_config_write(const char *path, const slm_model_config *c, int bf16, slm_err *err);
