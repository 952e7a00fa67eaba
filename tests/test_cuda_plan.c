// test_cuda_plan.c — the CUDA backend's GEMM plan (src/backend/cuda/gemm_plan.h:
// transposes, leading dimensions, batch strides, grouped heads, which GEMM
// writes and which accumulates) run on the host, in fp32, against the CPU
// backend's matmul and vanilla attention. The plan is the very code the GPU
// runs; here its GEMMs go to a plain column-major host GEMM (summing in
// double) that reads the cuBLAS arguments exactly as cuBLASLt defines them,
// and its softmaxes to a plain host softmax. Runs everywhere, GPU or not.
// Tolerance: max|plan − cpu| ≤ 1e-5·max|cpu| (both fp32; only the order of
// the sums differs, ~1e-7 relative); an index error shows as an O(1) error.
// label: gpu
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "backend/cuda/gemm_plan.h"
#include "testutil.h"

static uint64_t rng = 8;
static const double TOL = 1e-5;

// D[m,n] = alpha·op(A)·op(B) + beta·D per batch entry, column-major, as cuBLAS reads its arguments.
static void host_gemm(const cuda_gemm_args *g) {
    for (int p = 0; p < g->batch; p++) {
        const float *a = (const float *)g->a + p * g->stride_a, *b = (const float *)g->b + p * g->stride_b;
        float *d = (float *)g->d + p * g->stride_d;
        for (int j = 0; j < g->n; j++)
            for (int i = 0; i < g->m; i++) {
                double s = 0;
                for (int l = 0; l < g->k; l++) {
                    double x = g->trans_a ? a[l + (size_t)i * g->lda] : a[i + (size_t)l * g->lda];
                    double y = g->trans_b ? b[j + (size_t)l * g->ldb] : b[l + (size_t)j * g->ldb];
                    s += x * y;
                }
                float *o = d + i + (size_t)j * g->ldd;
                *o = (float)(g->alpha * s + (g->beta != 0.0f ? g->beta * (double)*o : 0.0));
            }
    }
}

static void host_softmax(void *Pv, const void *Sv, size_t rows, int T) {
    float *P = Pv;
    const float *S = Sv;
    for (size_t r = 0; r < rows; r++) {
        int i = (int)(r % T);
        const float *s = S + r * T;
        float *p = P + r * T;
        double mx = -INFINITY, sum = 0;
        for (int j = 0; j <= i; j++) mx = fmax(mx, s[j]);
        for (int j = 0; j <= i; j++) sum += exp(s[j] - mx);
        for (int j = 0; j < T; j++) p[j] = j <= i ? (float)(exp(s[j] - mx) / sum) : 0.0f;
    }
}

static void host_softmax_bwd(void *dSv, const void *Pv, size_t rows, int T) {
    float *dS = dSv;
    const float *P = Pv;
    for (size_t r = 0; r < rows; r++) {
        int i = (int)(r % T);
        const float *p = P + r * T;
        float *d = dS + r * T;
        double dot = 0;
        for (int j = 0; j <= i; j++) dot += (double)p[j] * d[j];
        for (int j = 0; j < T; j++) d[j] = j <= i ? (float)(p[j] * (d[j] - dot)) : 0.0f;
    }
}

static const gemm_plan_ops host_ops = {host_gemm, host_softmax, host_softmax_bwd, sizeof(float)};

static float *rnd(size_t n) {
    float *x = malloc((n ? n : 1) * sizeof(float));
    t_fill_uniform(x, n, &rng, -1, 1);
    return x;
}
static float *dup(const float *x, size_t n) {
    return memcpy(malloc((n ? n : 1) * sizeof(float)), x, n * sizeof(float));
}

static void near(const char *what, const float *got, const float *ref, size_t n) {
    double e = t_max_rel_err(got, ref, n, 1e-30);
    t_check(e <= TOL, "%s: max|plan-cpu|/max|cpu| %.2e (tol %.0e)", what, e, TOL);
}

static void test_matmul(const slm_ops *cpu, int N, int IC, int OC, int acc) {
    float *in = rnd((size_t)N * IC), *w = rnd((size_t)OC * IC), *dout = rnd((size_t)N * OC);
    float *out = rnd((size_t)N * OC), *din = rnd((size_t)N * IC), *dw = rnd((size_t)OC * IC);
    float *out2 = dup(out, (size_t)N * OC), *din2 = dup(din, (size_t)N * IC), *dw2 = dup(dw, (size_t)OC * IC);
    float *dw3 = dup(dw, (size_t)OC * IC), *din3 = dup(din, (size_t)N * IC);
    cpu->matmul_fwd(out, in, w, N, IC, OC, acc);
    cpu->matmul_bwd(din, dw, dout, in, w, N, IC, OC, acc);
    plan_matmul_fwd(&host_ops, out2, in, w, N, IC, OC, acc);
    plan_matmul_bwd(&host_ops, din2, dw2, dout, in, w, N, IC, OC, acc);
    plan_matmul_bwd(&host_ops, NULL, dw3, dout, in, w, N, IC, OC, acc);   // dw alone
    plan_matmul_bwd(&host_ops, din3, NULL, dout, in, w, N, IC, OC, acc);  // din alone
    char what[96];
    snprintf(what, sizeof what, "matmul fwd N=%d IC=%d OC=%d %s", N, IC, OC, acc ? "+=" : "=");
    near(what, out2, out, (size_t)N * OC);
    snprintf(what, sizeof what, "matmul bwd din N=%d IC=%d OC=%d %s", N, IC, OC, acc ? "+=" : "=");
    near(what, din2, din, (size_t)N * IC);
    snprintf(what, sizeof what, "matmul bwd dw += N=%d IC=%d OC=%d", N, IC, OC);
    near(what, dw2, dw, (size_t)OC * IC);
    snprintf(what, sizeof what, "matmul bwd N=%d IC=%d OC=%d: dw alone, din alone", N, IC, OC);
    t_check(!memcmp(dw3, dw2, (size_t)OC * IC * sizeof(float)) && !memcmp(din3, din2, (size_t)N * IC * sizeof(float)),
            "%s: the same as together", what);
    float *bufs[] = {in, w, dout, out, din, dw, out2, din2, dw2, dw3, din3};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
}

static void test_attention(const slm_ops *cpu, int B, int T, int H, int KVH, int hd) {
    size_t nq = (size_t)B * T * H * hd, nkv = (size_t)B * T * KVH * hd, tt = (size_t)B * H * T * T;
    float *q = rnd(nq), *k = rnd(nkv), *v = rnd(nkv), *dout = rnd(nq);
    float *out = rnd(nq), *P = rnd(tt), *S = rnd(tt), *dq = rnd(nq), *dk = rnd(nkv), *dv = rnd(nkv);
    // the plan's outputs start as garbage too: written (=) means every element written
    float *out2 = rnd(nq), *P2 = rnd(tt), *S2 = rnd(tt), *dq2 = rnd(nq), *dk2 = rnd(nkv), *dv2 = rnd(nkv);
    cpu->attention_vanilla_fwd(out, P, S, q, k, v, B, T, H, KVH, hd);
    cpu->attention_vanilla_bwd(dq, dk, dv, S, dout, out, P, q, k, v, B, T, H, KVH, hd);
    const float scale = 1.0f / sqrtf((float)hd);
    plan_attention_fwd(&host_ops, out2, P2, S2, q, k, v, B, T, H, KVH, hd, scale);
    plan_attention_bwd(&host_ops, dq2, dk2, dv2, S2, dout, P2, q, k, v, B, T, H, KVH, hd, scale);
    char what[96];
    snprintf(what, sizeof what, "attention fwd out B=%d T=%d H=%d KVH=%d hd=%d", B, T, H, KVH, hd);
    near(what, out2, out, nq);
    snprintf(what, sizeof what, "attention fwd probabilities B=%d T=%d H=%d KVH=%d", B, T, H, KVH);
    near(what, P2, P, tt);
    snprintf(what, sizeof what, "attention bwd dq B=%d T=%d H=%d KVH=%d hd=%d", B, T, H, KVH, hd);
    near(what, dq2, dq, nq);
    snprintf(what, sizeof what, "attention bwd dk B=%d T=%d H=%d KVH=%d hd=%d", B, T, H, KVH, hd);
    near(what, dk2, dk, nkv);
    snprintf(what, sizeof what, "attention bwd dv B=%d T=%d H=%d KVH=%d hd=%d", B, T, H, KVH, hd);
    near(what, dv2, dv, nkv);
    float *bufs[] = {q, k, v, dout, out, P, S, dq, dk, dv, out2, P2, S2, dq2, dk2, dv2};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
}

int main(void) {
    slm_backend *be = slm_backend_cpu();
    const slm_ops *cpu = be->ops;
    for (int acc = 0; acc <= 1; acc++) {
        test_matmul(cpu, 5, 37, 19, acc);
        test_matmul(cpu, 32, 64, 48, acc);
    }
    test_matmul(cpu, 1, 1, 1, 1);
    for (int kvh = 4; kvh >= 1; kvh /= 2) test_attention(cpu, 2, 13, 4, kvh, 16);
    test_attention(cpu, 3, 7, 6, 3, 8);
    test_attention(cpu, 1, 1, 2, 1, 4);
    slm_backend_destroy(be);
    return t_finish("test_cuda_plan");
}
