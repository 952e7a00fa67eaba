// bench_flags.h — the flags of `slm bench`, shared with `slm sweep`, which
// checks a grid's options against the same table and resolves each point's
// configuration (for its config hash) exactly as the bench it launches will.
#pragma once
#include "cli/run_flags.h"

typedef struct {
    int min_steps;     // timed steps at least, after the warm-up
    float min_time_s;  // timed seconds at least
    float price, target_loss;
    int64_t train_tokens;  // loss run: tokens to train on, 0 = throughput run
    const char *prices, *device_type;
    int seen_price, seen_target;
} slm_bench_options;

enum { SLM_BENCH_FLAGS_MAX = SLM_RUN_FLAGS_MAX + 8 };

// Sets the bench's defaults in rc and o (3 warm-up steps, 10 steps, 10 s) and
// fills flags (at most SLM_BENCH_FLAGS_MAX) with its table; returns the count.
int slm_bench_flags(slm_flag *flags, slm_run_config *rc, slm_run_flag_text *t, slm_bench_options *o);
// After parsing: resolves the model and enums, checks the bench options and
// sets the steps (warm-up + --min-steps, or the --train-tokens budget).
// -1 with err when a flag is wrong; the caller then validates rc.
int slm_bench_resolve(slm_run_config *rc, slm_run_flag_text *t, slm_bench_options *o, slm_err *err);
