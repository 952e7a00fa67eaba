// run_config.h — everything one run is configured by: the model, the batch,
// the attention kernel, the strategy, the device, the data and (for training)
// the optimizer. Filled by the CLI, which parses every name into its enum,
// validated once by slm_run_config_validate and the backend's rules
// (slm_backend_check); inside, code trusts it.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "core/attention.h"
#include "core/backend_kind.h"
#include "core/config.h"
#include "core/dtype.h"
#include "core/err.h"

typedef enum {
    SLM_STRATEGY_SINGLE,
    SLM_STRATEGY_DDP,
    SLM_STRATEGY_FSDP_FULL,
    SLM_STRATEGY_FSDP_GRAD_OP
} slm_strategy_kind;
extern const char *const slm_strategy_names[4];  // "single", "ddp", "fsdp-full", "fsdp-grad-op"

typedef struct {
    slm_model_config model;
    int seq_len;       // T of this run (at most model.seq_len)
    int micro_batch;   // sequences per device per micro step
    int global_batch;  // sequences per optimizer step, all devices
    int world_size;    // ranks of the run, a device each (the job's: mpirun -np N, SLM_WORLD_SIZE)
    slm_attention attention;
    slm_strategy_kind strategy;
    int overlap;               // communication overlapping compute (DDP buckets, FSDP prefetch)
    slm_dtype dtype;           // the compute dtype: SLM_F32 (cpu) or SLM_BF16 (cuda)
    slm_backend_kind backend;  // parsed from --backend where flags enter (or the default)
    size_t mem_limit;          // bytes, 0 = none
    int steps, warmup_steps;
    const char *data;      // token file, or "synthetic"
    const char *val_data;  // token file, or NULL: hold out val_frac of data
    float val_frac;
    uint64_t seed;
    const char *out;  // result records (JSON Lines), or NULL
    // optimizer
    float lr, min_lr, weight_decay, beta1, beta2, adam_eps, grad_clip;
    // loop
    int eval_every, eval_batches, log_every;
    const char *log_file;  // per-step metrics (JSON Lines), or NULL
    const char *save;      // checkpoint path, or NULL
    int save_every;
    const char *resume;     // checkpoint to continue from, or NULL
    const char *init_from;  // weights to start from (train/init_from.h: HF checkpoint or slm checkpoint), or NULL
    int run_steps;          // stop this process after N steps (0 = run to --steps), for time-limited jobs
    double min_time_s;      // benchmarks: step past --steps until the timed steps add up to this (0 = off)
} slm_run_config;

// Defaults: small, seq 256, micro batch 8, global batch 8, vanilla, single, fp32, cpu,
// 100 steps, lr 1e-3 → 1e-4 cosine, 10% warmup unless given.
void slm_run_config_defaults(slm_run_config *rc);
// Every rule between fields: the batch split, the sequence length, the
// optimizer and the loop. What a backend and its dtype allow is the backend's
// rule (slm_backend_check, backend.h), which callers check right after this.
int slm_run_config_validate(const slm_run_config *rc, slm_err *err);
// Micro steps per optimizer step, global_batch / (micro_batch × world_size),
// the product taken in 64 bits (both may be large); 0 when global_batch is not
// a multiple of it. Every command derives the accumulation from here.
int slm_grad_accum_of(int global_batch, int micro_batch, int world_size);
static inline int slm_grad_accum(const slm_run_config *rc) {
    return slm_grad_accum_of(rc->global_batch, rc->micro_batch, rc->world_size);
}
// The global batch without accumulation, micro_batch × world_size, into *out;
// -1 with err set when it does not fit an int.
int slm_global_batch_of(int micro_batch, int world_size, int *out, slm_err *err);
