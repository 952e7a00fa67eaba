// attention_flash.h — what the CPU's FlashAttention-2 forward (attention_flash.c,
// where the design is described) and backward (attention_flash_bwd.c) share:
// the tile sizes, a tile's causal cuts, a thread's tile buffers, the tile of
// scores and the one store of an fp32 accumulator, each written once for both
// compute dtypes (`bf` a constant in each exported op, as in cpu.h).
// The one decision: a thread's tiles are allocated once per parallel region,
// on the heap — at 128 KiB each they are too large for an OpenMP thread's stack.
#pragma once
#include <stddef.h>
#include <stdlib.h>

#include "backend/cpu/cpu.h"
#include "core/err.h"

enum { FLASH_BR = 128, FLASH_BC = 256 };  // query rows × keys of a tile

// Element i of a compute-dtype tensor, as an address (for the GEMMs' operands).
static inline void *flash_at(const void *p, size_t i, int bf) { return (char *)p + i * (bf ? 2 : 4); }

// Query rows of the block at r0: FLASH_BR, cut at the sequence's end.
static inline int flash_rows(int T, int r0) { return T - r0 < FLASH_BR ? T - r0 : FLASH_BR; }

// Keys of the block at c0 that query rows r0 … r0+nr−1 can see: the block,
// cut at the sequence's end and after the last row's position (causal), so a
// tile on the diagonal multiplies only the keys it needs.
static inline int flash_tile_keys(int T, int c0, int r0, int nr) {
    int n = T - c0 < FLASH_BC ? T - c0 : FLASH_BC;
    return r0 + nr - c0 < n ? r0 + nr - c0 : n;
}

// Keys a query row sees inside a tile: those at or before it (causal).
static inline int flash_visible(int row, int c0, int nc) {
    int n = row - c0 + 1;
    return n < 0 ? 0 : n < nc ? n : nc;
}

// One thread's tiles. In fp32 the products read P and dS where they are
// computed (p is s, dsop is ds); in bf16 they read bf16 copies.
typedef struct {
    float *s, *ds;   // [BR,BC] fp32: scores, then P; dP, then dS (ds: backward only)
    void *p, *dsop;  // [BR,BC] P and dS as the products' operands, in the compute dtype
    float *dk, *dv;  // [BC,hd] fp32 accumulators of a key block (backward in bf16; else NULL)
} flash_tiles;

// A tile of `bytes` on a cache line's boundary (malloc's 16 bytes would split
// every 64-byte vector of the element-wise loops across two lines).
static inline void *flash_tile(size_t bytes) {
    void *p = aligned_alloc(64, (bytes + 63) / 64 * 64);
    SLM_ASSERT(p, "out of host memory allocating a %zu-byte attention tile", bytes);
    return p;
}

static inline flash_tiles flash_tiles_alloc(int hd, int backward, int bf) {
    const size_t tile = (size_t)FLASH_BR * FLASH_BC, acc = (size_t)FLASH_BC * hd * sizeof(float);
    flash_tiles w = {flash_tile(tile * sizeof(float)), NULL, NULL, NULL, NULL, NULL};
    if (backward) w.ds = flash_tile(tile * sizeof(float));
    w.p = bf ? flash_tile(tile * 2) : (void *)w.s;
    w.dsop = bf && backward ? flash_tile(tile * 2) : (void *)w.ds;
    if (bf && backward) w.dk = flash_tile(acc), w.dv = flash_tile(acc);
    return w;
}

static inline void flash_tiles_free(flash_tiles *w) {
    if (w->p != (void *)w->s) free(w->p), free(w->dsop);  // bf16's copies
    free(w->s), free(w->ds), free(w->dk), free(w->dv);
}

// S[nr,nc] (fp32, row stride BC) = scale · q[nr,hd] · k[nc,hd]ᵀ, operands in the compute dtype.
static inline void flash_scores(float *S, const void *q, int ldq, const void *k, int ldk, int nr, int nc, int hd,
                                float scale, int bf) {
    cpu_gemm(bf ? SLM_BF16 : SLM_F32, SLM_F32, 0, 1, nr, nc, hd, scale, q, ldq, k, ldk, 0.0f, S, FLASH_BC);
}

// acc[n,width] = 0 (row stride lda).
static inline void flash_zero(float *acc, int lda, int n, int width) {
    for (int r = 0; r < n; r++)
        for (int d = 0; d < width; d++) acc[(size_t)r * lda + d] = 0.0f;
}

// dst[n,width] (row stride ldd, compute dtype) = acc[n,width] (row stride lda,
// fp32) · mul[r] (1 when mul is NULL): an fp32 accumulator's one rounding. In
// fp32 an accumulator may be its result itself: then, without mul, nothing to do.
static inline void flash_store(void *dst, int ldd, const float *acc, int lda, int n, int width, const float *mul,
                               int bf) {
    if (!bf && !mul && (const void *)acc == dst) return;
    for (int r = 0; r < n; r++) {
        const float m = mul ? mul[r] : 1.0f;
        for (int d = 0; d < width; d++) cpu_st(dst, (size_t)r * ldd + d, acc[(size_t)r * lda + d] * m, bf);
    }
}
