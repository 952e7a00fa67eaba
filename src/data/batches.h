// batches.h — where a run's batches come from: this rank's shard of a token
// file (loader.h), a validation set read whole by every rank, or synthetic
// tokens. The one decision to know: a synthetic sequence g of stream s (the
// step, or SLM_VAL_STREAM) is a function of (seed, s, g) alone, so a step's
// global batch is the same set of sequences whatever the world size and micro
// batch, and a resumed run needs no generator state.
#pragma once
#include <stdint.h>

#include "core/err.h"
#include "core/run_config.h"
#include "data/loader.h"
#include "data/tokfile.h"

enum { SLM_VAL_STREAM = -1 };

typedef struct {
    int synthetic;
    slm_loader loader;  // a token file's (loader.tf NULL when there is none)
    uint64_t seed;
    int vocab;
    const char *path;  // the file, or "synthetic", for messages
} slm_batch_source;

typedef struct {
    slm_tokfile tf, vf;           // the training file and the separate validation file, when open
    slm_batch_source train, val;  // val: a separate file, the last val_frac of the training file, or none
} slm_run_data;

// Opens rc->data (a token file split at 1 - val_frac, or beside rc->val_data)
// for rank `rank` of rc->world_size, or synthetic tokens. The tokens must fit
// the model's vocabulary. -1 with err set otherwise.
int slm_run_data_open(slm_run_data *d, const slm_run_config *rc, int rank, slm_err *err);
void slm_run_data_close(slm_run_data *d);
// Whether there is a validation set.
int slm_run_data_has_val(const slm_run_data *d);

// The next B sequences of T tokens: inputs [B,T] and targets (the next
// tokens). Synthetic: sequences g0 … g0+B-1 of stream `stream`; a file: the
// loader's next window. -1 with err set when a token lies past the vocabulary.
int slm_batch_next(slm_batch_source *s, int *inputs, int *targets, int B, int T, int64_t stream, uint64_t g0,
                   slm_err *err);
// Batch i of the source read as a list of windows: a file's i-th window
// (wrapping), or the synthetic sequences i·B … of `stream`.
int slm_batch_nth(slm_batch_source *s, int *inputs, int *targets, int B, int T, int64_t stream, uint64_t i,
                  slm_err *err);
