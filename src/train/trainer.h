// trainer.h — the training loop: micro batches accumulated to the global
// batch, clipping, AdamW on a warmup + cosine schedule, validation every K
// steps, checkpoints, resume, a progress line and a summary.
#pragma once
#include <stddef.h>

#include "backend/backend.h"
#include "core/run_config.h"

typedef enum { SLM_STATUS_OK, SLM_STATUS_OOM, SLM_STATUS_ERROR } slm_status;
extern const char *const slm_status_names[3];  // "ok", "oom", "error"

typedef struct {
    slm_status status;
    char message[512];
    int first_step, steps_done;      // steps run by this process (resume starts at first_step)
    double final_loss;               // training loss of the last step
    double val_loss;                 // last validation loss, NAN if none ran
    double step_time_s, step_time_p10_s, step_time_p90_s;  // median and spread
    double tokens_per_s;             // global_batch · seq_len / median step time
    double elapsed_s;                // wall time of the loop, validation and checkpoints included
    long long train_tokens;          // tokens trained on by this process
    slm_mem_tracker mem;             // the tracker at the end (peaks by category)
    char device[128];
} slm_train_result;

// Runs the whole training. Returns 0 with res filled when the run ended (its
// status says ok or oom); -1 with err set when it could not run (bad data,
// unreadable checkpoint, a loss that became NaN): res then holds what was
// measured before (figures not reached are NaN).
int slm_train(const slm_run_config *rc, slm_train_result *res, slm_err *err);
