// attention_flash.c — FlashAttention-2 on the CPU: causal attention in O(T)
// memory; the forward here, the backward in attention_flash_bwd.c, what they
// share in attention_flash.h. Queries are taken in blocks of BR rows against
// keys in blocks of BC columns; an online softmax keeps each row's running max
// and sum, so no T×T matrix ever exists — only one BR×BC tile per thread.
// Blocks above the causal diagonal are skipped. The forward saves the output
// and each row's log-sum-exp (B·H·T floats); the backward recomputes every
// tile's probabilities from q, k and the log-sum-exp, with D = rowsum(dO ∘ O).
//
// Tiles: BR = 128 query rows against BC = 256 keys. One tile of scores is
// 128 KiB and its gradient as much: both stay in a core's L2 (1 MiB per core on the
// EPYC build machine) beside the q, k, v rows they multiply, and the GEMMs
// (128×256×hd) are large enough that OpenBLAS's packing does not dominate.
// Measured on that machine (bench/bench_attention): 64×64 tiles ran the
// T = 2048 op about 1.3× slower than 128×256, 256×256 about 1.1× slower.
// The forward splits work by (sequence, head, query block). The backward
// gives each thread a (sequence, kv head): it owns that head's dK and dV and
// the dQ of the query heads of its group, so nothing is added by two threads
// and grouped-query attention never copies K or V. When there are fewer such
// pairs than twice the threads, it runs two passes instead — dK, dV by
// (sequence, kv head, key block), then dQ by (sequence, head, query block) —
// paying one more q·kᵀ and dO·vᵀ per tile for the parallelism. Either way the
// result does not depend on timing.
//
// Precision, the one decision to know: the op is written once for both
// compute dtypes. In fp32 the results accumulate where they are stored. In
// bf16, q, k, v, out and the gradients are bf16 tensors and every tile product
// takes bf16 operands and accumulates in fp32 (cpu_gemm); the scores, the
// softmax statistics and the saved log-sum-exp are fp32; P and dS are rounded
// to bf16 only as the operands of the products that take them; the output
// and dQ accumulate in fp32 in the scratch ([B,T,H,hd], slm_attention_sizes)
// and a key block's dK, dV in a thread's fp32 tiles, each rounded once when
// stored; D is computed once into the scratch's row sums [B,H,T].
#include <math.h>

#include "backend/cpu/attention_flash.h"
#include "backend/cpu/cpu.h"
#include "backend/cpu/fast_exp.h"

enum { BR = FLASH_BR, BC = FLASH_BC };

// A tile row's scores s[0, nc) become exp(s − max) (0 past its n_vis visible
// keys) in row `at` of the operand tile p; the running max *m and sum *l take
// them in. Returns the factor the row's earlier output is rescaled by.
static inline float online_row(const float *s, void *p, size_t at, int n_vis, int nc, float *m, float *l, int bf) {
    float mx = *m, sum = 0.0f;
#pragma omp simd reduction(max : mx)
    for (int c = 0; c < n_vis; c++) mx = s[c] > mx ? s[c] : mx;
    const float corr = *m == -INFINITY ? 0.0f : slm_expf(*m - mx);  // the first tile: nothing to rescale
#pragma omp simd reduction(+ : sum)
    for (int c = 0; c < n_vis; c++) {
        const float e = slm_expf(s[c] - mx);
        cpu_st(p, at + c, e, bf);
        sum += e;
    }
    for (int c = n_vis; c < nc; c++) cpu_st(p, at + c, 0.0f, bf);
    *l = *l * corr + sum;
    *m = mx;
    return corr;
}

// The nr rows from r0 of one head: q, k, v, out, acc at the head's row 0, rows
// ldq (q, out, acc) and ldkv (k, v) apart. acc [nr,hd] is the fp32 output
// accumulator (out itself in fp32); out = acc / l, lse = m + log l.
static inline void fwd_block(const flash_tiles *w, void *out, float *acc, float *lse, const void *q, const void *k,
                             const void *v, int T, int r0, int ldq, int ldkv, int hd, float scale, int bf) {
    const slm_dtype t = bf ? SLM_BF16 : SLM_F32;
    const int nr = flash_rows(T, r0);
    float m[BR], l[BR];
    const void *qb = flash_at(q, (size_t)r0 * ldq, bf);
    acc += (size_t)r0 * ldq;
    flash_zero(acc, ldq, nr, hd);
    for (int r = 0; r < nr; r++) m[r] = -INFINITY, l[r] = 0.0f;
    for (int c0 = 0; c0 <= r0 + nr - 1; c0 += BC) {
        const int nc = flash_tile_keys(T, c0, r0, nr);
        flash_scores(w->s, qb, ldq, flash_at(k, (size_t)c0 * ldkv, bf), ldkv, nr, nc, hd, scale, bf);
        for (int r = 0; r < nr; r++) {
            const float corr = online_row(w->s + (size_t)r * BC, w->p, (size_t)r * BC, flash_visible(r0 + r, c0, nc),
                                          nc, &m[r], &l[r], bf);
            float *o = acc + (size_t)r * ldq;
            for (int d = 0; d < hd; d++) o[d] *= corr;
        }
        // acc[nr,hd] += P[nr,nc] · v[nc,hd]
        cpu_gemm(t, SLM_F32, 0, 0, nr, hd, nc, 1.0f, w->p, BC, flash_at(v, (size_t)c0 * ldkv, bf), ldkv, 1.0f, acc,
                 ldq);
    }
    for (int r = 0; r < nr; r++) {
        lse[r0 + r] = m[r] + logf(l[r]);
        l[r] = 1.0f / l[r];
    }
    flash_store(flash_at(out, (size_t)r0 * ldq, bf), ldq, acc, ldq, nr, hd, l, bf);
}

// A thread's share of the forward, inside the exported op's parallel region
// (there, so that each dtype's loops are compiled on their own). saved: the
// log-sum-exp [B,H,T]; scratch: the fp32 output accumulator [B,T,H,hd] (bf16 only).
static inline void flash_fwd(void *out, float *saved, float *scratch, const void *q, const void *k, const void *v,
                             int B, int T, int H, int KVH, int hd, int bf) {
    const int ldq = H * hd, ldkv = KVH * hd, group = H / KVH, nblk = (T + BR - 1) / BR;
    const float scale = 1.0f / sqrtf((float)hd);
    float *acc = bf ? scratch : (float *)out;
    flash_tiles w = flash_tiles_alloc(hd, 0, bf);
#pragma omp for collapse(3) schedule(dynamic)
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++)
            for (int ib = 0; ib < nblk; ib++) {
                const size_t q0 = (size_t)b * T * ldq + (size_t)h * hd;
                const size_t kv0 = (size_t)b * T * ldkv + (size_t)(h / group) * hd;
                fwd_block(&w, flash_at(out, q0, bf), acc + q0, saved + ((size_t)b * H + h) * T, flash_at(q, q0, bf),
                          flash_at(k, kv0, bf), flash_at(v, kv0, bf), T, ib * BR, ldq, ldkv, hd, scale, bf);
            }
    flash_tiles_free(&w);
}

void cpu_attention_flash_fwd(void *out, void *saved, void *scratch, const void *q, const void *k, const void *v, int B,
                             int T, int H, int KVH, int hd) {
#pragma omp parallel
    flash_fwd(out, saved, scratch, q, k, v, B, T, H, KVH, hd, 0);
}
void cpu_attention_flash_fwd_bf16(void *out, void *saved, void *scratch, const void *q, const void *k, const void *v,
                                  int B, int T, int H, int KVH, int hd) {
#pragma omp parallel
    flash_fwd(out, saved, scratch, q, k, v, B, T, H, KVH, hd, 1);
}
