// checkpoint.h — save and restore a training run: model, AdamW state, step,
// RNG state and data position, so that a resumed run continues bitwise
// identically (CPU backend, fixed thread count).
//
// File: a 256-byte header — magic "SLMCKPT1", version, header size, the model
// config, the run's batch shape, step, RNG state, data position, floats per
// array, array count, checksum — then the parameters, AdamW m and v (fp32,
// the flat layout). The checksum is FNV-1a-style over 64-bit words of the
// payload. Written to a temporary file, fsynced, renamed: a crash never leaves
// a half-written checkpoint under the final name.
#pragma once
#include <stdint.h>

#include "model/llama.h"
#include "train/optim.h"

typedef struct {
    uint64_t step;       // optimizer steps completed
    uint64_t rng_state;  // the training RNG (synthetic data)
    uint64_t data_pos;   // the train loader's position
    int seq_len, micro_batch, global_batch;
} slm_ckpt_meta;

int slm_checkpoint_save(const char *path, const slm_model *m, const slm_adamw_state *opt, const slm_ckpt_meta *meta,
                        slm_err *err);
// Reads and checks the header only: the model config and the run's meta.
int slm_checkpoint_peek(const char *path, slm_model_config *cfg, slm_ckpt_meta *meta, slm_err *err);
// Loads into a model built with the same config (checked); opt may be NULL
// (inference). The whole payload is checksummed either way.
int slm_checkpoint_load(const char *path, slm_model *m, slm_adamw_state *opt, slm_ckpt_meta *meta, slm_err *err);
