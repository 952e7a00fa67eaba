// loader.h — a rank-sharded sequential reader of a token file.
// Tokens [begin, end) of the file are split into `world` contiguous shards of
// equal size (the remainder, fewer than `world` tokens, is left out), so ranks
// never read the same token. Rank r reads its shard in windows of B·T+1
// tokens: inputs = window[0 .. B·T), targets = window[1 .. B·T] (the next
// token), advancing B·T tokens and wrapping to the shard's start when the next
// window does not fit. `pos` is the whole state: a checkpoint saves it and a
// resume assigns it back.
#pragma once
#include <stdint.h>

#include "core/err.h"
#include "data/tokfile.h"

typedef struct {
    const slm_tokfile *tf;
    uint64_t begin, end;  // this rank's shard [begin, end), in tokens of tf
    uint64_t pos;         // next window's first token, relative to begin
    int B, T;             // sequences per batch, tokens per sequence
} slm_loader;

// Fails when the arguments are out of range or the shard holds fewer than
// B·T+1 tokens (the message gives both counts).
int slm_loader_init(slm_loader *ld, const slm_tokfile *tf, uint64_t begin, uint64_t end, int rank, int world, int B,
                    int T, slm_err *err);
// inputs, targets: (B, T) ints each, row-major: sequence b is [b·T, b·T+T).
void slm_loader_next(slm_loader *ld, int *inputs, int *targets);
// Back to the shard's start (validation passes read the same tokens each time).
void slm_loader_reset(slm_loader *ld);
