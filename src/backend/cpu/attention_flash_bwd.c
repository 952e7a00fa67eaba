// attention_flash_bwd.c — FlashAttention-2's backward on the CPU (the design
// is described in attention_flash.c): each tile's P recomputed from q, k and
// the log-sum-exp, dP = dO·vᵀ, dS = P ∘ (dP − D), and their products summed
// into dQ, dK, dV. The one decision: a key block is visited once, every query
// head of its group and every query block below it in turn, so its dK and dV
// contributions are consecutive and sum in one fp32 accumulator (the tensors
// themselves in fp32, a thread's tiles in bf16), rounded once when stored.
// dQ's sum runs over the key blocks in order, in the fp32 scratch in bf16.
#include <math.h>
#include <omp.h>

#include "backend/cpu/attention_flash.h"
#include "backend/cpu/cpu.h"
#include "backend/cpu/fast_exp.h"

enum { BR = FLASH_BR, BC = FLASH_BC };

// A backward call's tensors (dq, dout, out, q [B,T,H,hd]; dk, dv, k, v
// [B,T,KVH,hd]; lse [B,H,T]) and shape.
typedef struct {
    void *dq, *dk, *dv;
    const void *dout, *out, *q, *k, *v;
    const float *lse;
    float *dq_acc;  // [B,T,H,hd] fp32 accumulator of dq: dq itself in fp32, the scratch in bf16
    float *D;       // [B,H,T] rowsum(dO ∘ O) in the scratch (bf16); NULL: computed per tile (fp32)
    int B, T, H, KVH, hd, ldq, ldkv, group;
    float scale;
} bwd_args;

static inline size_t q_off(const bwd_args *a, int b, int t, int h) {
    return ((size_t)b * a->T + t) * a->ldq + (size_t)h * a->hd;
}
static inline size_t kv_off(const bwd_args *a, int b, int t, int kvh) {
    return ((size_t)b * a->T + t) * a->ldkv + (size_t)kvh * a->hd;
}

// dO[r,:] · O[r,:] of the row at element offset off.
static inline float row_dot(const bwd_args *a, size_t off, int bf) {
    const void *x = flash_at(a->dout, off, bf), *y = flash_at(a->out, off, bf);
    const int hd = a->hd;
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int d = 0; d < hd; d++) s += cpu_ld(x, d, bf) * cpu_ld(y, d, bf);
    return s;
}

// D of rows r0 … r0+nr−1 of head (b, h): from the scratch, or computed into Dtile.
static inline const float *row_sums(const bwd_args *a, float *Dtile, int b, int h, int r0, int nr, int bf) {
    if (a->D) return a->D + ((size_t)b * a->H + h) * a->T + r0;
    for (int r = 0; r < nr; r++) Dtile[r] = row_dot(a, q_off(a, b, r0 + r, h), bf);
    return Dtile;
}

// The tile of query rows r0 … r0+nr−1 of head h against keys c0 … c0+nc−1
// (sequence b): P = exp(S − lse) (0 above the diagonal) and dS = P ∘ (dP − D),
// both computed in fp32 and written as the products' operands (w->p, w->dsop).
static inline void tile_grads(const flash_tiles *w, const bwd_args *a, int b, int h, int r0, int nr, int c0, int nc,
                              const float *D, int bf) {
    const size_t qo = q_off(a, b, r0, h), ko = kv_off(a, b, c0, h / a->group);
    const float *lse = a->lse + ((size_t)b * a->H + h) * a->T + r0;
    flash_scores(w->s, flash_at(a->q, qo, bf), a->ldq, flash_at(a->k, ko, bf), a->ldkv, nr, nc, a->hd, a->scale, bf);
    // dP[nr,nc] = dO[nr,hd] · v[nc,hd]ᵀ
    cpu_gemm(bf ? SLM_BF16 : SLM_F32, SLM_F32, 0, 1, nr, nc, a->hd, 1.0f, flash_at(a->dout, qo, bf), a->ldq,
             flash_at(a->v, ko, bf), a->ldkv, 0.0f, w->ds, BC);
    for (int r = 0; r < nr; r++) {
        const float *s = w->s + (size_t)r * BC, *dp = w->ds + (size_t)r * BC;
        const size_t row = (size_t)r * BC;
        const int n_vis = flash_visible(r0 + r, c0, nc);
        for (int c = 0; c < n_vis; c++) {
            const float p = slm_expf(s[c] - lse[r]), ds = p * (dp[c] - D[r]);
            cpu_st(w->p, row + c, p, bf);
            cpu_st(w->dsop, row + c, ds, bf);
        }
        for (int c = n_vis; c < nc; c++) cpu_st(w->p, row + c, 0.0f, bf), cpu_st(w->dsop, row + c, 0.0f, bf);
    }
}

// The tile's products into the fp32 accumulators that are not NULL: dv[nc,hd]
// += Pᵀ·dO and dk[nc,hd] += scale·dSᵀ·q (rows lda apart), dq[nr,hd] +=
// scale·dS·k (rows ldq apart).
static inline void tile_accumulate(const flash_tiles *w, const bwd_args *a, int b, int h, int r0, int nr, int c0,
                                   int nc, float *dq, float *dk, float *dv, int lda, int bf) {
    const slm_dtype t = bf ? SLM_BF16 : SLM_F32;
    const size_t qo = q_off(a, b, r0, h);
    const int hd = a->hd, ldq = a->ldq;
    if (dv) cpu_gemm(t, SLM_F32, 1, 0, nc, hd, nr, 1.0f, w->p, BC, flash_at(a->dout, qo, bf), ldq, 1.0f, dv, lda);
    if (dk) cpu_gemm(t, SLM_F32, 1, 0, nc, hd, nr, a->scale, w->dsop, BC, flash_at(a->q, qo, bf), ldq, 1.0f, dk, lda);
    if (dq)
        cpu_gemm(t, SLM_F32, 0, 0, nr, hd, nc, a->scale, w->dsop, BC,
                 flash_at(a->k, kv_off(a, b, c0, h / a->group), bf), a->ldkv, 1.0f, dq, ldq);
}

// dK, dV of the key block at c0 of kv head kvh (sequence b): every query head
// of the group, every query block from the diagonal down, summed into one
// fp32 accumulator each and stored; with_dq: the tiles' dQ summed into dq_acc.
static inline void key_block(const flash_tiles *w, const bwd_args *a, int b, int kvh, int c0, int with_dq, int bf) {
    const int nc = a->T - c0 < BC ? a->T - c0 : BC;
    const size_t ko = kv_off(a, b, c0, kvh);
    float *dk = bf ? w->dk : (float *)a->dk + ko, *dv = bf ? w->dv : (float *)a->dv + ko, D[BR];
    const int lda = bf ? a->hd : a->ldkv;
    flash_zero(dk, lda, nc, a->hd);
    flash_zero(dv, lda, nc, a->hd);
    for (int h = kvh * a->group; h < (kvh + 1) * a->group; h++)
        for (int r0 = c0 / BR * BR; r0 < a->T; r0 += BR) {
            const int nr = flash_rows(a->T, r0), nck = flash_tile_keys(a->T, c0, r0, nr);
            tile_grads(w, a, b, h, r0, nr, c0, nck, row_sums(a, D, b, h, r0, nr, bf), bf);
            tile_accumulate(w, a, b, h, r0, nr, c0, nck, with_dq ? a->dq_acc + q_off(a, b, r0, h) : NULL, dk, dv, lda,
                            bf);
        }
    flash_store(flash_at(a->dk, ko, bf), a->ldkv, dk, lda, nc, a->hd, NULL, bf);
    flash_store(flash_at(a->dv, ko, bf), a->ldkv, dv, lda, nc, a->hd, NULL, bf);
}

// One pass: all that a (sequence, kv head) owns — its dK, dV key block by key
// block, and the dQ of its group's query heads, summed over the key blocks.
static inline void kv_head(const flash_tiles *w, const bwd_args *a, int b, int kvh, int bf) {
    const size_t qo = q_off(a, b, 0, kvh * a->group);
    const int width = a->group * a->hd;
    flash_zero(a->dq_acc + qo, a->ldq, a->T, width);
    for (int c0 = 0; c0 < a->T; c0 += BC) key_block(w, a, b, kvh, c0, 1, bf);
    flash_store(flash_at(a->dq, qo, bf), a->ldq, a->dq_acc + qo, a->ldq, a->T, width, NULL, bf);
}

// Two passes, the second: dQ of the query block at r0 of head h (sequence b).
static inline void query_block(const flash_tiles *w, const bwd_args *a, int b, int h, int r0, int bf) {
    const int nr = flash_rows(a->T, r0);
    const size_t qo = q_off(a, b, r0, h);
    float D[BR];
    const float *Dr = row_sums(a, D, b, h, r0, nr, bf);
    flash_zero(a->dq_acc + qo, a->ldq, nr, a->hd);
    for (int c0 = 0; c0 < r0 + nr; c0 += BC) {
        const int nc = flash_tile_keys(a->T, c0, r0, nr);
        tile_grads(w, a, b, h, r0, nr, c0, nc, Dr, bf);
        tile_accumulate(w, a, b, h, r0, nr, c0, nc, a->dq_acc + qo, NULL, NULL, 0, bf);
    }
    flash_store(flash_at(a->dq, qo, bf), a->ldq, a->dq_acc + qo, a->ldq, nr, a->hd, NULL, bf);
}

// Inside the parallel region: D of every row into a->D (bf16 only).
static inline void all_row_sums(const bwd_args *a, int bf) {
    if (!a->D) return;
#pragma omp for collapse(2) schedule(static)
    for (int b = 0; b < a->B; b++)
        for (int h = 0; h < a->H; h++)
            for (int t = 0; t < a->T; t++) a->D[((size_t)b * a->H + h) * a->T + t] = row_dot(a, q_off(a, b, t, h), bf);
}

// A thread's share of the backward, inside the exported op's parallel region
// (there, so that each dtype's loops are compiled on their own).
static inline void flash_bwd(const bwd_args *a, int bf) {
    const int one_pass = a->B * a->KVH >= 2 * omp_get_num_threads(), n_key_blocks = (a->T + BC - 1) / BC;
    const int nblk = (a->T + BR - 1) / BR;
    flash_tiles w = flash_tiles_alloc(a->hd, 1, bf);
    all_row_sums(a, bf);
    if (one_pass) {
#pragma omp for collapse(2) schedule(dynamic)
        for (int b = 0; b < a->B; b++)
            for (int kvh = 0; kvh < a->KVH; kvh++) kv_head(&w, a, b, kvh, bf);
    } else {  // too few (sequence, kv head) pairs to keep every thread busy: dK, dV, then dQ
#pragma omp for collapse(3) schedule(dynamic)
        for (int b = 0; b < a->B; b++)
            for (int kvh = 0; kvh < a->KVH; kvh++)
                for (int jb = 0; jb < n_key_blocks; jb++) key_block(&w, a, b, kvh, jb * BC, 0, bf);
#pragma omp for collapse(3) schedule(dynamic)
        for (int b = 0; b < a->B; b++)
            for (int h = 0; h < a->H; h++)
                for (int ib = 0; ib < nblk; ib++) query_block(&w, a, b, h, ib * BR, bf);
    }
    flash_tiles_free(&w);
}

// scratch (bf16 only): the fp32 dq accumulator [B,T,H,hd], then the row sums [B,H,T].
static bwd_args args_of(void *dq, void *dk, void *dv, void *scratch, const void *dout, const void *out,
                        const void *saved, const void *q, const void *k, const void *v, int B, int T, int H, int KVH,
                        int hd, int bf) {
    float *acc = bf ? scratch : dq;
    bwd_args a = {dq, dk, dv, dout, out, q, k, v, saved, acc, bf ? acc + (size_t)B * T * H * hd : NULL};
    a.B = B, a.T = T, a.H = H, a.KVH = KVH, a.hd = hd, a.ldq = H * hd, a.ldkv = KVH * hd, a.group = H / KVH;
    a.scale = 1.0f / sqrtf((float)hd);
    return a;
}

void cpu_attention_flash_bwd(void *dq, void *dk, void *dv, void *scratch, const void *dout, const void *out,
                             const void *saved, const void *q, const void *k, const void *v, int B, int T, int H,
                             int KVH, int hd) {
    const bwd_args a = args_of(dq, dk, dv, scratch, dout, out, saved, q, k, v, B, T, H, KVH, hd, 0);
#pragma omp parallel
    flash_bwd(&a, 0);
}
void cpu_attention_flash_bwd_bf16(void *dq, void *dk, void *dv, void *scratch, const void *dout, const void *out,
                                  const void *saved, const void *q, const void *k, const void *v, int B, int T, int H,
                                  int KVH, int hd) {
    const bwd_args a = args_of(dq, dk, dv, scratch, dout, out, saved, q, k, v, B, T, H, KVH, hd, 1);
#pragma omp parallel
    flash_bwd(&a, 1);
}
