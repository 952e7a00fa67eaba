// trainer.h — a training run, as `slm train` and `slm bench` run it: micro
// batches accumulated to the global batch through the strategy's hooks,
// clipping, AdamW on a warmup + cosine schedule (optim.h), validation
// (validator.h), checkpoints and resume (checkpointer.h), a progress line and
// a per-step log (train_log.h), step-time statistics (step_times.h).
#pragma once
#include <stddef.h>

#include "backend/backend.h"
#include "core/run_config.h"

enum { SLM_RANKS_SHOWN = 16 };

typedef enum { SLM_STATUS_OK, SLM_STATUS_OOM, SLM_STATUS_ERROR } slm_status;
extern const char *const slm_status_names[3];  // "ok", "oom", "error"

typedef struct {
    slm_status status;
    char message[512];
    int first_step, steps_done;                            // steps run by this process (resume starts at first_step)
    double final_loss;                                     // training loss of the last step
    double val_loss;                                       // last validation loss, NAN if none ran
    double step_time_s, step_time_p10_s, step_time_p90_s;  // median and spread
    double tokens_per_s;                                   // global_batch · seq_len / median step time
    double elapsed_s;                                      // wall time of the loop, validation and checkpoints included
    long long train_tokens;                                // tokens trained on by this process
    slm_mem_tracker mem;  // the tracker of the rank with the largest peak (peaks by category)
    char device[128];
    size_t device_peak_bytes;  // cuda: the GPU's own peak in use on this rank (cudaMemGetInfo), the
                               // CUDA context, cuBLASLt workspace and the ops' scratch included; 0 on cpu
    int world_size, nodes;     // ranks and hosts of the run
    double comm_time_frac;     // share of step time spent waiting on communication (mean over ranks)
    int ranks_shown;           // ranks with their peaks below (the first SLM_RANKS_SHOWN)
    size_t rank_peak[SLM_RANKS_SHOWN][SLM_MEM_NCAT + 1];  // per rank: total peak, then the split at it
} slm_train_result;

// Runs the whole training on the communicator of this process (every rank of
// an mpirun job calls it; rc->world_size must be its size). Rank 0 prints and
// writes the log; all ranks return the same result. Returns 0 with res filled
// when the run ended (its status says ok or oom); -1 with err set when it
// could not run (bad data, unreadable checkpoint, a loss that became NaN):
// res then holds what was measured before (figures not reached are NaN).
int slm_train(const slm_run_config *rc, slm_train_result *res, slm_err *err);
// slm_train for a command that reports every outcome as a result: a run that
// could not run has status error and its message. Returns 1 on rank 0 (the
// rank that reports), else 0.
int slm_train_for_result(const slm_run_config *rc, slm_train_result *res);
