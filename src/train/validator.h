// validator.h — the validation loss of a run: the mean loss over the first
// --eval-batches micro batches of the validation set (the same sequences
// whatever the world size: batch i on rank i mod W), after every
// --eval-every steps and after the last of --steps. Every rank runs the same
// number of forwards (FSDP gathers in each); a rank past the last batch
// repeats one and counts it zero.
#pragma once
#include "core/err.h"
#include "core/run_config.h"
#include "data/batches.h"
#include "parallel/strategy.h"

typedef struct {
    slm_strategy *st;
    slm_batch_source *src;  // NULL: no validation set
    int *inputs, *targets;  // [B·T] host buffers, shared with the trainer
    int B, T, eval_batches, eval_every, steps;
} slm_validator;

void slm_validator_init(slm_validator *v, slm_strategy *st, slm_batch_source *src, const slm_run_config *rc,
                        int *inputs, int *targets);
// Whether validation runs once `step` steps are done.
int slm_validator_due(const slm_validator *v, int step);
// The loss into *loss (the same on every rank; collective). -1 with err set
// when the data is bad or the loss not finite.
int slm_validator_run(slm_validator *v, int step, double *loss, slm_err *err);
