// attention_flash.c — FlashAttention-2 on the CPU: causal attention in O(T)
// memory. Queries are taken in blocks of BR rows against keys in blocks of BC
// columns; an online softmax keeps each row's running max and sum, so no
// T×T matrix ever exists — only one BR×BC tile per thread. Blocks above the
// causal diagonal are skipped. The forward saves the output and each row's
// log-sum-exp (B·H·T floats); the backward recomputes every tile's
// probabilities from q, k and the log-sum-exp, with D = rowsum(dO ∘ O).
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
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <string.h>

#include "backend/cpu/cpu.h"
#include "backend/cpu/fast_exp.h"

enum { BR = 128, BC = 256 };

// S[nr,nc] = scale · q[nr,hd] · k[nc,hd]ᵀ, one tile (row stride BC).
static void tile_scores(float *S, const float *q, int ldq, const float *k, int ldk, int nr, int nc, int hd,
                        float scale) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nr, nc, hd, scale, q, ldq, k, ldk, 0.0f, S, BC);
}

// Keys of the block at c0 that query rows r0 … r0+nr−1 can see: the block,
// cut at the sequence's end and after the last row's position (causal), so a
// tile on the diagonal multiplies only the keys it needs.
static int tile_keys(int T, int c0, int r0, int nr) {
    int n = T - c0 < BC ? T - c0 : BC;
    return r0 + nr - c0 < n ? r0 + nr - c0 : n;
}

// Keys a query row sees inside a tile: those at or before it (causal).
static int visible(int row, int c0, int nc) {
    int n = row - c0 + 1;
    return n < 0 ? 0 : n < nc ? n : nc;
}

void cpu_attention_flash_fwd(void *out_, void *saved_, void *scratch_, const void *q_, const void *k_, const void *v_,
                             int B, int T, int H, int KVH, int hd) {
    float *out = out_, *saved = saved_;
    const float *q = q_, *k = k_, *v = v_;
    const int ldq = H * hd, ldkv = KVH * hd, group = H / KVH, nblk = (T + BR - 1) / BR;
    const float scale = 1.0f / sqrtf((float)hd);
#pragma omp parallel for collapse(3) schedule(dynamic)
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++)
            for (int ib = 0; ib < nblk; ib++) {
                float S[BR * BC], m[BR], l[BR];
                const int r0 = ib * BR, nr = T - r0 < BR ? T - r0 : BR;
                const float *qb = q + ((size_t)b * T + r0) * ldq + h * hd;
                float *ob = out + ((size_t)b * T + r0) * ldq + h * hd;
                for (int r = 0; r < nr; r++) {
                    m[r] = -INFINITY;
                    l[r] = 0.0f;
                    memset(ob + (size_t)r * ldq, 0, (size_t)hd * sizeof(float));
                }
                for (int c0 = 0; c0 <= r0 + nr - 1; c0 += BC) {
                    const int nc = tile_keys(T, c0, r0, nr);
                    const float *kb = k + ((size_t)b * T + c0) * ldkv + (h / group) * hd;
                    const float *vb = v + ((size_t)b * T + c0) * ldkv + (h / group) * hd;
                    tile_scores(S, qb, ldq, kb, ldkv, nr, nc, hd, scale);
                    for (int r = 0; r < nr; r++) {
                        float *s = S + (size_t)r * BC;
                        int n_vis = visible(r0 + r, c0, nc);
                        float mx = m[r];
#pragma omp simd reduction(max : mx)
                        for (int c = 0; c < n_vis; c++) mx = s[c] > mx ? s[c] : mx;
                        float corr = m[r] == -INFINITY ? 0.0f : slm_expf(m[r] - mx),
                              sum = 0.0f;  // the first tile: nothing to rescale
#pragma omp simd reduction(+ : sum)
                        for (int c = 0; c < n_vis; c++) {
                            s[c] = slm_expf(s[c] - mx);
                            sum += s[c];
                        }
                        for (int c = n_vis; c < nc; c++) s[c] = 0.0f;
                        l[r] = l[r] * corr + sum;
                        m[r] = mx;
                        float *o = ob + (size_t)r * ldq;
                        for (int d = 0; d < hd; d++) o[d] *= corr;
                    }
                    // O[nr,hd] += P[nr,nc] · v[nc,hd]
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nr, hd, nc, 1.0f, S, BC, vb, ldkv, 1.0f, ob,
                                ldq);
                }
                float *lse = saved + ((size_t)b * H + h) * T + r0;
                for (int r = 0; r < nr; r++) {
                    float inv = 1.0f / l[r];
                    float *o = ob + (size_t)r * ldq;
                    for (int d = 0; d < hd; d++) o[d] *= inv;
                    lse[r] = m[r] + logf(l[r]);
                }
            }
}

// The tile's probabilities P = exp(S − lse) (0 above the diagonal), then
// dP = dO·vᵀ and dS = P ∘ (dP − D) in place of dP.
static void tile_grads(float *P, float *dS, const float *q, const float *k, const float *v, const float *dout,
                       const float *lse, const float *D, int ldq, int ldkv, int r0, int nr, int c0, int nc, int hd,
                       float scale) {
    tile_scores(P, q, ldq, k, ldkv, nr, nc, hd, scale);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nr, nc, hd, 1.0f, dout, ldq, v, ldkv, 0.0f, dS, BC);
    for (int r = 0; r < nr; r++) {
        float *p = P + (size_t)r * BC, *ds = dS + (size_t)r * BC;
        int n_vis = visible(r0 + r, c0, nc);
        for (int c = 0; c < n_vis; c++) {
            p[c] = slm_expf(p[c] - lse[r]);
            ds[c] = p[c] * (ds[c] - D[r]);
        }
        for (int c = n_vis; c < nc; c++) p[c] = ds[c] = 0.0f;
    }
}

// dv[nc,hd] += Pᵀ·dO and dk[nc,hd] += scale·dSᵀ·q; with_dq: dq[nr,hd] += scale·dS·k.
static void tile_accumulate(const float *P, const float *dS, const float *q, const float *k, const float *dout,
                            float *dq, float *dk, float *dv, int ldq, int ldkv, int nr, int nc, int hd, float scale,
                            int with_dq) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, nc, hd, nr, 1.0f, P, BC, dout, ldq, 1.0f, dv, ldkv);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, nc, hd, nr, scale, dS, BC, q, ldq, 1.0f, dk, ldkv);
    if (with_dq)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nr, hd, nc, scale, dS, BC, k, ldkv, 1.0f, dq, ldq);
}

// D[r] = dO[r,:] · O[r,:] for the nr rows of a query block.
static void row_dots(float *D, const float *dout, const float *out, int ldq, int nr, int hd) {
    for (int r = 0; r < nr; r++) {
        float s = 0.0f;
#pragma omp simd reduction(+ : s)
        for (int d = 0; d < hd; d++) s += dout[(size_t)r * ldq + d] * out[(size_t)r * ldq + d];
        D[r] = s;
    }
}

void cpu_attention_flash_bwd(void *dq_, void *dk_, void *dv_, void *scratch_, const void *dout_, const void *out_,
                             const void *saved_, const void *q_, const void *k_, const void *v_, int B, int T, int H,
                             int KVH, int hd) {
    float *dq = dq_, *dk = dk_, *dv = dv_;
    const float *dout = dout_, *out = out_, *saved = saved_, *q = q_, *k = k_, *v = v_;
    const int ldq = H * hd, ldkv = KVH * hd, group = H / KVH, nblk = (T + BR - 1) / BR;
    const float scale = 1.0f / sqrtf((float)hd);
    if (B * KVH >= 2 * omp_get_max_threads()) {
        // one pass: a task owns a (sequence, kv head) — its dK, dV and the dQ of its group's heads
#pragma omp parallel for collapse(2) schedule(dynamic)
        for (int b = 0; b < B; b++)
            for (int kvh = 0; kvh < KVH; kvh++) {
                float P[BR * BC], dS[BR * BC], D[BR];
                for (int t = 0; t < T; t++) {
                    size_t row = (size_t)b * T + t;
                    memset(dk + row * ldkv + kvh * hd, 0, (size_t)hd * sizeof(float));
                    memset(dv + row * ldkv + kvh * hd, 0, (size_t)hd * sizeof(float));
                    memset(dq + row * ldq + (size_t)kvh * group * hd, 0, (size_t)group * hd * sizeof(float));
                }
                for (int h = kvh * group; h < (kvh + 1) * group; h++)
                    for (int c0 = 0; c0 < T; c0 += BC) {
                        const size_t kv_off = ((size_t)b * T + c0) * ldkv + kvh * hd;
                        for (int r0 = c0 / BR * BR; r0 < T; r0 += BR) {
                            const int nr = T - r0 < BR ? T - r0 : BR, nc = tile_keys(T, c0, r0, nr);
                            const size_t q_off = ((size_t)b * T + r0) * ldq + h * hd;
                            const float *lse = saved + ((size_t)b * H + h) * T + r0;
                            row_dots(D, dout + q_off, out + q_off, ldq, nr, hd);
                            tile_grads(P, dS, q + q_off, k + kv_off, v + kv_off, dout + q_off, lse, D, ldq, ldkv, r0,
                                       nr, c0, nc, hd, scale);
                            tile_accumulate(P, dS, q + q_off, k + kv_off, dout + q_off, dq + q_off, dk + kv_off,
                                            dv + kv_off, ldq, ldkv, nr, nc, hd, scale, 1);
                        }
                    }
            }
        return;
    }
    // Too few (sequence, kv head) pairs to keep every thread busy: two passes.
    // pass 1: dK, dV of one key block, summed over every query head of its group
    const int n_key_blocks = (T + BC - 1) / BC;
#pragma omp parallel for collapse(3) schedule(dynamic)
    for (int b = 0; b < B; b++)
        for (int kvh = 0; kvh < KVH; kvh++)
            for (int jb = 0; jb < n_key_blocks; jb++) {
                float P[BR * BC], dS[BR * BC], D[BR];
                const int c0 = jb * BC, nc = T - c0 < BC ? T - c0 : BC;
                const size_t kv_off = ((size_t)b * T + c0) * ldkv + kvh * hd;
                float *dkb = dk + kv_off, *dvb = dv + kv_off;
                for (int c = 0; c < nc; c++) {
                    memset(dkb + (size_t)c * ldkv, 0, (size_t)hd * sizeof(float));
                    memset(dvb + (size_t)c * ldkv, 0, (size_t)hd * sizeof(float));
                }
                for (int h = kvh * group; h < (kvh + 1) * group; h++)
                    for (int ib = c0 / BR; ib < nblk; ib++) {
                        const int r0 = ib * BR, nr = T - r0 < BR ? T - r0 : BR, nck = tile_keys(T, c0, r0, nr);
                        const size_t q_off = ((size_t)b * T + r0) * ldq + h * hd;
                        const float *lse = saved + ((size_t)b * H + h) * T + r0;
                        row_dots(D, dout + q_off, out + q_off, ldq, nr, hd);
                        tile_grads(P, dS, q + q_off, k + kv_off, v + kv_off, dout + q_off, lse, D, ldq, ldkv, r0, nr,
                                   c0, nck, hd, scale);
                        tile_accumulate(P, dS, q + q_off, k + kv_off, dout + q_off, NULL, dkb, dvb, ldq, ldkv, nr, nck,
                                        hd, scale, 0);
                    }
            }
            // pass 2: dQ of one query block
#pragma omp parallel for collapse(3) schedule(dynamic)
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++)
            for (int ib = 0; ib < nblk; ib++) {
                float P[BR * BC], dS[BR * BC], D[BR];
                const int r0 = ib * BR, nr = T - r0 < BR ? T - r0 : BR;
                const size_t q_off = ((size_t)b * T + r0) * ldq + h * hd;
                const float *lse = saved + ((size_t)b * H + h) * T + r0;
                float *dqb = dq + q_off;
                for (int r = 0; r < nr; r++) memset(dqb + (size_t)r * ldq, 0, (size_t)hd * sizeof(float));
                row_dots(D, dout + q_off, out + q_off, ldq, nr, hd);
                for (int c0 = 0; c0 < r0 + nr; c0 += BC) {
                    const int nc = tile_keys(T, c0, r0, nr);
                    const size_t kv_off = ((size_t)b * T + c0) * ldkv + (h / group) * hd;
                    tile_grads(P, dS, q + q_off, k + kv_off, v + kv_off, dout + q_off, lse, D, ldq, ldkv, r0, nr, c0,
                               nc, hd, scale);
                    // dq[nr,hd] += scale · dS · k
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nr, hd, nc, scale, dS, BC, k + kv_off, ldkv,
                                1.0f, dqb, ldq);
                }
            }
}
