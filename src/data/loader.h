// loader.h — a rank-sharded sequential reader of a token file. Tokens
// [begin, end) are split into `world` contiguous equal shards; rank r reads
// shard r in windows of B·T+1 tokens (inputs = window[0..B·T), targets =
// window[1..B·T]), advancing B·T tokens and wrapping to the shard's start when
// the next window does not fit. `pos` is the whole state: a checkpoint saves it.
#pragma once
#include <stdint.h>

#include "data/tokfile.h"

typedef struct {
    const slm_tokfile *tf;
    uint64_t begin, end;  // this rank's shard
    uint64_t pos;         // next window's first token, relative to begin
    int B, T;
} slm_loader;

int slm_loader_init(slm_loader *ld, const slm_tokfile *tf, uint64_t begin, uint64_t end, int rank, int world, int B,
                    int T, slm_err *err);
// inputs and targets: B·T ints each; sequence b is [b·T, b·T+T).
void slm_loader_next(slm_loader *ld, int *inputs, int *targets);
void slm_loader_reset(slm_loader *ld);
