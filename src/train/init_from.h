// init_from.h — the weights a run starts from instead of the seed's (slm train
// --init-from), and the models slm sample and slm export open: a Hugging Face
// checkpoint (a directory, one .safetensors file with config.json beside it,
// or a model.safetensors.index.json) or an slm checkpoint (a file or an FSDP
// manifest). Weights only: the run keeps its fresh optimizer and
// starts at step 0. The model's shape is the source's (config.json, or the
// checkpoint's header) unless flags change it; a tensor that then differs is
// refused by name when the weights load.
#pragma once
#include "model/llama.h"
#include "parallel/strategy.h"

// Whether path names a Hugging Face checkpoint (a directory, *.safetensors,
// *.index.json), else an slm checkpoint (a file, or an FSDP manifest of any name).
int slm_source_is_hf(const char *path);
// The model of the source: config.json's, or the checkpoint's header's.
int slm_source_config(const char *path, slm_model_config *cfg, slm_err *err);
// The source's weights into what st owns (each rank its own slices of each
// unit), then the compute copy; checked against st's model first. Not
// collective: the caller agrees on the outcome.
int slm_source_load(const char *path, slm_strategy *st, slm_err *err);
// The same into a model of one process; *seq_len: the context the source was
// trained at (an slm checkpoint's run), or its model's maximum.
int slm_source_load_model(const char *path, slm_model *m, int *seq_len, slm_err *err);
