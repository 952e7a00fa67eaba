// checkpointer.h — when a training run saves and how it resumes, over the
// checkpoint format of checkpoint.h. Saves go to --save after every
// --save-every steps and after the last step this process runs; --resume
// restores parameters, AdamW state and step, and puts each rank's data reader
// where the checkpoint left it (at the same share of its shard when the world
// size changed).
#pragma once
#include "core/err.h"
#include "core/run_config.h"
#include "data/batches.h"
#include "parallel/strategy.h"
#include "train/optim.h"

typedef struct {
    const slm_run_config *rc;
    slm_strategy *st;
    slm_optimizer *opt;
    slm_batch_source *train;
} slm_checkpointer;

void slm_checkpointer_init(slm_checkpointer *c, const slm_run_config *rc, slm_strategy *st, slm_optimizer *opt,
                           slm_batch_source *train);
// Rank 0, before the resume (so that a run that ends there, its checkpoint
// at --steps already, tidies too) and the run's first save: removes what saves
// of --save that did not finish left beside it (checkpoint_leftovers.h), a
// line on stdout for each file. Other
// ranks do nothing; none writes a shard before rank 0 has done.
void slm_checkpointer_tidy(const slm_checkpointer *c);
// Collective. Loads rc->resume (when set) and checks it fits this run; *start
// is the step to go on from (0 without --resume). -1 with err set on every
// rank when any rank failed.
int slm_checkpointer_resume(slm_checkpointer *c, int *start, slm_err *err);
// Whether to save once `step` steps are done (`last`: the last step this process runs).
int slm_checkpointer_due(const slm_checkpointer *c, int step, int last);
// Collective: every rank fails together.
int slm_checkpointer_save(slm_checkpointer *c, int step, slm_err *err);
