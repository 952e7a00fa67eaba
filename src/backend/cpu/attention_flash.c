// attention_flash.c — FlashAttention-2 on the CPU: causal attention in O(T)
// memory. Queries are taken in blocks of BR rows against keys in blocks of BC
// columns; an online softmax keeps each row's running max and sum, so no
// T×T matrix ever exists — only one BR×BC tile per thread. Blocks above the
// causal diagonal are skipped. The forward saves the output and each row's
// log-sum-exp (B·H·T floats); the backward recomputes every tile's
// probabilities from q, k and the log-sum-exp, with D = rowsum(dO ∘ O).
//
// Tiles of 64×64 floats (16 KiB for S, as much for dP) stay in L1/L2 next to
// the 64×hd blocks of q, k, v they multiply. Work is split across threads by
// (sequence, head, query block) in the forward. The backward runs two passes
// so that no two threads ever add into the same row: dK and dV by (sequence,
// kv head, key block) — the query heads of a group summed inside the task, so
// grouped-query attention never copies K or V — then dQ by (sequence, head,
// query block). That costs one more q·kᵀ per tile than a single pass with
// atomics, and keeps the result deterministic.
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "backend/cpu/cpu.h"

enum { BR = 64, BC = 64 };

// S[nr,nc] = scale · q[nr,hd] · k[nc,hd]ᵀ, one tile (row stride BC).
static void tile_scores(float *S, const float *q, int ldq, const float *k, int ldk, int nr, int nc, int hd,
                        float scale) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nr, nc, hd, scale, q, ldq, k, ldk, 0.0f, S, BC);
}

// Keys a query row sees inside a tile: those at or before it (causal).
static int visible(int row, int c0, int nc) {
    int n = row - c0 + 1;
    return n < 0 ? 0 : n < nc ? n : nc;
}

void cpu_attention_flash_fwd(float *out, float *saved, float *scratch, const float *q, const float *k, const float *v,
                             int B, int T, int H, int KVH, int hd) {
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
                    const int nc = T - c0 < BC ? T - c0 : BC;
                    const float *kb = k + ((size_t)b * T + c0) * ldkv + (h / group) * hd;
                    const float *vb = v + ((size_t)b * T + c0) * ldkv + (h / group) * hd;
                    tile_scores(S, qb, ldq, kb, ldkv, nr, nc, hd, scale);
                    for (int r = 0; r < nr; r++) {
                        float *s = S + (size_t)r * BC;
                        int n_vis = visible(r0 + r, c0, nc);
                        float mx = m[r];
                        for (int c = 0; c < n_vis; c++) mx = s[c] > mx ? s[c] : mx;
                        float corr = expf(m[r] - mx), sum = 0.0f;
                        for (int c = 0; c < n_vis; c++) {
                            s[c] = expf(s[c] - mx);
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
            p[c] = expf(p[c] - lse[r]);
            ds[c] = p[c] * (ds[c] - D[r]);
        }
        for (int c = n_vis; c < nc; c++) p[c] = ds[c] = 0.0f;
    }
}

// D[r] = dO[r,:] · O[r,:] for the nr rows of a query block.
static void row_dots(float *D, const float *dout, const float *out, int ldq, int nr, int hd) {
    for (int r = 0; r < nr; r++) {
        float s = 0.0f;
        for (int d = 0; d < hd; d++) s += dout[(size_t)r * ldq + d] * out[(size_t)r * ldq + d];
        D[r] = s;
    }
}

void cpu_attention_flash_bwd(float *dq, float *dk, float *dv, float *scratch, const float *dout, const float *out,
                             const float *saved, const float *q, const float *k, const float *v, int B, int T, int H,
                             int KVH, int hd) {
    const int ldq = H * hd, ldkv = KVH * hd, group = H / KVH, nblk = (T + BR - 1) / BR;
    const float scale = 1.0f / sqrtf((float)hd);
    // pass 1: dK, dV of one key block, summed over every query head of its group
#pragma omp parallel for collapse(3) schedule(dynamic)
    for (int b = 0; b < B; b++)
        for (int kvh = 0; kvh < KVH; kvh++)
            for (int jb = 0; jb < nblk; jb++) {
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
                        const int r0 = ib * BR, nr = T - r0 < BR ? T - r0 : BR;
                        const size_t q_off = ((size_t)b * T + r0) * ldq + h * hd;
                        const float *lse = saved + ((size_t)b * H + h) * T + r0;
                        row_dots(D, dout + q_off, out + q_off, ldq, nr, hd);
                        tile_grads(P, dS, q + q_off, k + kv_off, v + kv_off, dout + q_off, lse, D, ldq, ldkv, r0, nr,
                                   c0, nc, hd, scale);
                        // dv[nc,hd] += Pᵀ · dO ;  dk[nc,hd] += scale · dSᵀ · q
                        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, nc, hd, nr, 1.0f, P, BC, dout + q_off, ldq,
                                    1.0f, dvb, ldkv);
                        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, nc, hd, nr, scale, dS, BC, q + q_off, ldq,
                                    1.0f, dkb, ldkv);
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
                    const int nc = T - c0 < BC ? T - c0 : BC;
                    const size_t kv_off = ((size_t)b * T + c0) * ldkv + (h / group) * hd;
                    tile_grads(P, dS, q + q_off, k + kv_off, v + kv_off, dout + q_off, lse, D, ldq, ldkv, r0, nr, c0,
                               nc, hd, scale);
                    // dq[nr,hd] += scale · dS · k
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nr, hd, nc, scale, dS, BC, k + kv_off, ldkv,
                                1.0f, dqb, ldq);
                }
            }
}
