// advise.h — the search behind `slm advise`: every configuration of a space
// (device type × device count × strategy × attention × micro batch ×
// gradient accumulation, the global batch micro × count × accumulation unless
// fixed) predicted for one model, a measured record taking a point's place
// where one exists, and the words that say why a configuration wins: which
// term of its step dominates (compute, exposed communication, the optimizer),
// attention's share, accumulation, and whether memory capped its micro batch.
// The one decision to know: accumulation 1 (the study's own points) is always
// searched; more only while the global batch stays within a cap in tokens,
// since a larger batch is a different training run (fewer optimizer steps per
// token) whose convergence the throughput model does not judge.
#pragma once
#include "measure/results.h"
#include "predict/predictor.h"

enum { SLM_ADVISE_MAX_DIM = 16 };

typedef struct {
    slm_model_config model;
    int seq_len;
    int worlds[SLM_ADVISE_MAX_DIM], n_worlds;
    int micros[SLM_ADVISE_MAX_DIM], n_micros;
    slm_attention attns[2];
    int n_attns;
    slm_strategy_kind strategies[4];
    int n_strategies;
    int accums[SLM_ADVISE_MAX_DIM], n_accums;  // accumulation counts besides 1 (1 is always searched)
    int64_t max_global_tokens;  // accumulation > 1 only while global batch × seq_len ≤ this; 0: no cap
    int global_batch;           // 0: micro batch × devices × accumulation; else fixed (accums unused)
} slm_advise_space;

typedef struct {
    slm_run_config rc;
    const slm_predictor *pr;
    slm_record rec;       // predicted, or the measured record of the same configuration and device
    slm_prediction pred;  // the model's terms (also for a measured point)
    int measured;
    double tokens_per_s, tokens_per_dollar;
    int oom;
    int micro_cap;  // memory: the next micro batch of this configuration is out of memory (its bytes)
    double cap_needs_bytes;
} slm_candidate;

// Every point of the space on every predictor; *n_out candidates (oom ones
// included, flagged). A candidate's memory cap is the smallest larger micro
// batch of its configuration that is out of memory, at any accumulation (a
// rank's memory does not depend on it). `measured` may be NULL. The caller frees the array.
slm_candidate *slm_advise_search(const slm_advise_space *space, const slm_predictor *pr, int n_pr,
                                 const slm_results *measured, int *n_out);
// Why c stands where it does, in a few words.
void slm_advise_reason(const slm_candidate *c, char *out, size_t len);
// Why `best` beats `second`, from the terms that differ.
void slm_advise_compare(const slm_candidate *best, const slm_candidate *second, char *out, size_t len);
// "H100-80GB x16 (2 nodes), fsdp-grad-op, flash, micro 16, global 256", or
// "..., micro 8 x 4 accum, global 512" when it accumulates.
void slm_candidate_describe(const slm_candidate *c, char *out, size_t len);
