// hf_weights.h — a Hugging Face checkpoint's weights as slm.c's parameters:
// one safetensors file, or the shards model.safetensors.index.json names,
// checked against the layout of the model (llama.h; its tensor names are
// Hugging Face's) before one value is copied. The files stay mapped; a unit
// is converted to fp32 only when asked for, so loading holds one unit's
// floats on the host at a time.
//
// Refused, one line naming the file and the tensor: a tensor the model has
// and the files lack, one the files have and the model does not (a layer too
// many, lm_head.weight of a model with a tied head unless it equals the
// embedding), a shape other than the model's; for an index: a file named
// outside its directory, a tensor in a shard other than the one the index
// says, a tensor named twice. Tolerated: transformers 4.x's
// "*.rotary_emb.inv_freq" buffers (slm.c computes RoPE from the config).
#pragma once
#include "model/llama.h"
#include "model/safetensors.h"

typedef struct {
    char where[4096];  // the file or index opened, for messages
    int n_files;
    slm_st_file *files;  // each shard, mapped
} slm_hf_weights;

// Opens the weights at path: a directory (its model.safetensors, else its
// model.safetensors.index.json), one .safetensors file, or an index .json.
int slm_hf_weights_open(slm_hf_weights *w, const char *path, slm_err *err);
void slm_hf_weights_close(slm_hf_weights *w);
// The tensor of that name in whichever file holds it, or NULL.
const slm_st_tensor *slm_hf_weights_find(const slm_hf_weights *w, const char *name, const slm_st_file **file);

// Whether the weights hold exactly the tensors of lay, each of its shape
// (`model` says in messages what the layout is of: "the model of config.json").
int slm_hf_weights_check(const slm_hf_weights *w, const slm_param_layout *lay, const char *model, slm_err *err);
// Open and check at once; w is closed again when either fails.
int slm_hf_weights_open_for(slm_hf_weights *w, const char *path, const slm_param_layout *lay, const char *model,
                            slm_err *err);
// Each unit of lay in turn, from checked weights, widened into one host buffer
// (the unit's lay->unit_size[u] floats, padding zero), handed to put(ctx, u, host).
void slm_hf_weights_each_unit(const slm_hf_weights *w, const slm_param_layout *lay,
                              void (*put)(void *ctx, int unit, const float *host), void *ctx);

// The config.json of the checkpoint at path (a directory, or a file in it),
// named after its directory.
int slm_hf_config_of(const char *path, slm_model_config *cfg, slm_err *err);
// Opens, checks and loads the weights at path into a model of one process
// (its fp32 master, then the compute copy).
int slm_hf_load_model(const char *path, slm_model *m, slm_err *err);
