// train_log.h — what a training run tells its user while it runs: the
// progress line on rank 0's terminal (progress.h) and, with --log-file, one
// JSON line per step (loss, lr, gradient norm, step time, tokens/s,
// validation loss). Only the lead rank writes; the others hold a silent log.
#pragma once
#include <stdio.h>

#include "core/err.h"
#include "core/progress.h"
#include "core/run_config.h"

// One optimizer step as the trainer measured it.
typedef struct {
    int step;         // steps completed, this one included
    double loss;      // mean training loss over the global batch
    double val_loss;  // NAN unless validation ran after this step
    float lr, grad_norm;
    double time_s, wait_s;  // the step, and its wait on communication
} slm_step_report;

typedef struct {
    int lead;
    const char *path;  // --log-file, for messages
    FILE *file;
    slm_progress prog;
    double tokens_per_step;
    int steps;  // --steps
} slm_train_log;

// Opens --log-file on the lead rank: appended to when resuming at step
// `start` > 0, after its lines from the first of a step past `start` (or one
// cut short) on are cut off and counted on stdout, so that a resumed run logs
// each step once. -1 with err set when it cannot be written.
int slm_train_log_open(slm_train_log *l, const slm_run_config *rc, int lead, int start, slm_err *err);
// Closes --log-file (once; then a no-op). -1 with err when what was written
// did not reach the file. Writes below are flushed line by line and fail the
// same way: "writing --log-file PATH failed: <why>", only on the lead rank.
int slm_train_log_close(slm_train_log *l, slm_err *err);
// The untrained model's validation loss (step 0).
int slm_train_log_baseline(slm_train_log *l, double val_loss, slm_err *err);
// A step done. `total`: the steps this run will reach; `force`: print the
// line even between --log-every; the mean step time and the time since the
// loop began give the ETA.
int slm_train_log_step(slm_train_log *l, const slm_step_report *s, int total, int force, double mean_step_s,
                       double elapsed_s, slm_err *err);
// Ends a rewritten progress line before other output.
void slm_train_log_break(slm_train_log *l);
