// hf_export.h — slm.c's parameters as a Hugging Face checkpoint directory that
// transformers loads with AutoModelForCausalLM.from_pretrained: config.json
// (core/hf_config.h), generation_config.json, and the weights under their
// Hugging Face names (the layout's), in F32 or BF16, as model.safetensors or,
// past the shard size, as model-0000i-of-0000n.safetensors shards and
// model.safetensors.index.json, split as transformers splits them (a new
// shard when the next tensor would pass the size). Each file is written
// atomically; the form the directory held before (a single file, or an index
// and its shards) is removed first, so transformers never finds a stale
// model.safetensors beside a new index, and shards no longer named after.
#pragma once
#include <stdint.h>

#include "model/llama.h"

// params: the layout's fp32 floats (lay->total) on the host; bf16: write BF16
// (rounded to nearest even) instead of F32; shard_bytes: the most tensor bytes
// in one file (HF's max_shard_size).
int slm_hf_export(const char *dir, const slm_model_config *c, const slm_param_layout *lay, const float *params,
                  int bf16, uint64_t shard_bytes, slm_err *err);
