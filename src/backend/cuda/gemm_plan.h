// gemm_plan.h — the CUDA backend's GEMMs as cuBLAS column-major problems: the
// projections (matmul) and the whole sequence of vanilla attention (GEMMs per
// head, softmax, GEMMs back), in plain C over an element size and the
// functions that run a GEMM and a softmax.
// The one decision to know: the index arithmetic (transposes, leading
// dimensions, batch strides, grouped heads, which GEMM writes and which
// accumulates) lives only here, so the host tests run this very plan with an
// fp32 host GEMM and compare it with the CPU backend (test_cuda_plan), while
// the GPU runs it with cuBLASLt and bf16 (matmul.cu, attention.cu).
// Row-major X[R,C] is column-major Xᵀ[C,R] to cuBLAS: out[N,OC] = in·wᵀ is
// asked as outᵀ[OC,N] = w'ᵀ·in' with w' = wᵀ [IC,OC] and in' = inᵀ [IC,N].
#pragma once
#include <stddef.h>

// One GEMM, column-major: D[m,n] = alpha · op(A)[m,k] · op(B)[k,n] + beta · D,
// batch times with element strides stride_a, stride_b, stride_d between batch
// entries. A and B are of the compute dtype; D too (d_f32 = 0) or fp32 (d_f32 = 1).
typedef struct {
    int trans_a, trans_b, m, n, k;
    const void *a;
    int lda;
    long long stride_a;
    const void *b;
    int ldb;
    long long stride_b;
    void *d;
    int ldd;
    long long stride_d;
    int d_f32, batch;
    float alpha, beta;
} cuda_gemm_args;

typedef struct {
    void (*gemm)(const cuda_gemm_args *g);
    // P[r, :] = causal softmax of S[r, :] (row r = (b·H + h)·T + i keeps j ≤ i), rows of T
    void (*softmax)(void *P, const void *S, size_t rows, int T);
    // dS[r, :] = P ∘ (dP − rowsum(P ∘ dP)) in place over dP, zero above the diagonal
    void (*softmax_bwd)(void *dS, const void *P, size_t rows, int T);
    size_t elem;  // bytes of an element of the compute dtype
} gemm_plan_ops;

// p advanced by i elements of x->elem bytes
static inline const void *plan_at(const gemm_plan_ops *x, const void *p, size_t i) {
    return (const char *)p + i * x->elem;
}
static inline void *plan_at_mut(const gemm_plan_ops *x, void *p, size_t i) { return (char *)p + i * x->elem; }

// out [N,OC] (= or +=) in [N,IC] · w[OC,IC]ᵀ
static inline void plan_matmul_fwd(const gemm_plan_ops *x, void *out, const void *in, const void *w, int N, int IC,
                                   int OC, int accumulate) {
    // outᵀ[OC,N] = w'ᵀ · in'
    cuda_gemm_args g = {.trans_a = 1,
                        .m = OC,
                        .n = N,
                        .k = IC,
                        .a = w,
                        .lda = IC,
                        .b = in,
                        .ldb = IC,
                        .d = out,
                        .ldd = OC,
                        .batch = 1,
                        .alpha = 1.0f,
                        .beta = accumulate ? 1.0f : 0.0f};
    x->gemm(&g);
}

// din [N,IC] (= or +=) dout [N,OC] · w[OC,IC];  dw [OC,IC] += doutᵀ · in in fp32. din or dw may be NULL.
static inline void plan_matmul_bwd(const gemm_plan_ops *x, void *din, float *dw, const void *dout, const void *in,
                                   const void *w, int N, int IC, int OC, int accumulate_din) {
    if (din) {  // dinᵀ[IC,N] = w' · dout'   (w' = wᵀ [IC,OC], dout' = doutᵀ [OC,N])
        cuda_gemm_args g = {.m = IC,
                            .n = N,
                            .k = OC,
                            .a = w,
                            .lda = IC,
                            .b = dout,
                            .ldb = OC,
                            .d = din,
                            .ldd = IC,
                            .batch = 1,
                            .alpha = 1.0f,
                            .beta = accumulate_din ? 1.0f : 0.0f};
        x->gemm(&g);
    }
    if (dw) {  // dwᵀ[IC,OC] += in' · dout'ᵀ   (in' = inᵀ [IC,N])
        cuda_gemm_args g = {.trans_b = 1,
                            .m = IC,
                            .n = OC,
                            .k = N,
                            .a = in,
                            .lda = IC,
                            .b = dout,
                            .ldb = OC,
                            .d = dw,
                            .ldd = IC,
                            .d_f32 = 1,
                            .batch = 1,
                            .alpha = 1.0f,
                            .beta = 1.0f};
        x->gemm(&g);
    }
}

// For every sequence b: row-major X[T,T] = alpha · a[T,hd] · c[T,hd]ᵀ, a and c read with row strides
// lda, ldc from a + b·T·lda, c + b·T·ldc; X at X + b·H·T² (X holds the T×T blocks of every (b, h)).
static inline void plan_abt(const gemm_plan_ops *x, void *X, const void *a, int lda, const void *c, int ldc, int B,
                            int T, int H, int hd, float alpha) {
    // Xᵀ[T,T] = c'ᵀ · a'   (a' = aᵀ [hd,T], c' = cᵀ [hd,T])
    cuda_gemm_args g = {.trans_a = 1,
                        .m = T,
                        .n = T,
                        .k = hd,
                        .a = c,
                        .lda = ldc,
                        .stride_a = (long long)T * ldc,
                        .b = a,
                        .ldb = lda,
                        .stride_b = (long long)T * lda,
                        .d = X,
                        .ldd = T,
                        .stride_d = (long long)H * T * T,
                        .batch = B,
                        .alpha = alpha};
    x->gemm(&g);
}

// For every sequence b: row-major y[T,hd] = alpha · op(X)[T,T] · c[T,hd] + beta · y, op(X) = X or Xᵀ;
// c read with row stride ldc, y written with ldy, per sequence as in plan_abt.
static inline void plan_xc(const gemm_plan_ops *x, void *y, int ldy, const void *X, int trans_x, const void *c, int ldc,
                           int B, int T, int H, int hd, float alpha, float beta) {
    // yᵀ[hd,T] = c' · op(X)ᵀ'   (X' = Xᵀ [T,T] as stored: op(X)ᵀ is X' itself, or X'ᵀ when transposed)
    cuda_gemm_args g = {.trans_b = trans_x,
                        .m = hd,
                        .n = T,
                        .k = T,
                        .a = c,
                        .lda = ldc,
                        .stride_a = (long long)T * ldc,
                        .b = X,
                        .ldb = T,
                        .stride_b = (long long)H * T * T,
                        .d = y,
                        .ldd = ldy,
                        .stride_d = (long long)T * ldy,
                        .batch = B,
                        .alpha = alpha,
                        .beta = beta};
    x->gemm(&g);
}

// Vanilla causal attention, q [B,T,H,hd], k, v [B,T,KVH,hd], out [B,T,H,hd]; P (saved) and S (scratch)
// [B,H,T,T]. One batched GEMM per head over the B sequences; query head h reads kv head h / (H/KVH).
static inline void plan_attention_fwd(const gemm_plan_ops *x, void *out, void *P, void *S, const void *q, const void *k,
                                      const void *v, int B, int T, int H, int KVH, int hd, float scale) {
    const int ldq = H * hd, ldkv = KVH * hd, group = H / KVH;
    for (int h = 0; h < H; h++)  // S = scale · q · kᵀ
        plan_abt(x, plan_at_mut(x, S, (size_t)h * T * T), plan_at(x, q, (size_t)h * hd), ldq,
                 plan_at(x, k, (size_t)(h / group) * hd), ldkv, B, T, H, hd, scale);
    x->softmax(P, S, (size_t)B * H * T, T);
    for (int h = 0; h < H; h++)  // out = P · v
        plan_xc(x, plan_at_mut(x, out, (size_t)h * hd), ldq, plan_at(x, P, (size_t)h * T * T), 0,
                plan_at(x, v, (size_t)(h / group) * hd), ldkv, B, T, H, hd, 1.0f, 0.0f);
}

// Its backward: dq, dk, dv written (=). dS (scratch) holds dP, then dS. The heads of a group add into
// their shared dk, dv one after another: g outer, kv head inner, the first head (g = 0) writes.
static inline void plan_attention_bwd(const gemm_plan_ops *x, void *dq, void *dk, void *dv, void *dS, const void *dout,
                                      const void *P, const void *q, const void *k, const void *v, int B, int T, int H,
                                      int KVH, int hd, float scale) {
    const int ldq = H * hd, ldkv = KVH * hd, group = H / KVH;
    for (int g = 0; g < group; g++)
        for (int kvh = 0; kvh < KVH; kvh++) {
            const int h = kvh * group + g;
            const size_t head = (size_t)h * T * T;
            // dP = dout · vᵀ;  dv (+)= Pᵀ · dout
            plan_abt(x, plan_at_mut(x, dS, head), plan_at(x, dout, (size_t)h * hd), ldq,
                     plan_at(x, v, (size_t)kvh * hd), ldkv, B, T, H, hd, 1.0f);
            plan_xc(x, plan_at_mut(x, dv, (size_t)kvh * hd), ldkv, plan_at(x, P, head), 1,
                    plan_at(x, dout, (size_t)h * hd), ldq, B, T, H, hd, 1.0f, g == 0 ? 0.0f : 1.0f);
        }
    x->softmax_bwd(dS, P, (size_t)B * H * T, T);
    for (int g = 0; g < group; g++)
        for (int kvh = 0; kvh < KVH; kvh++) {
            const int h = kvh * group + g;
            const size_t head = (size_t)h * T * T;
            // dq = scale · dS · k;  dk (+)= scale · dSᵀ · q
            plan_xc(x, plan_at_mut(x, dq, (size_t)h * hd), ldq, plan_at(x, dS, head), 0,
                    plan_at(x, k, (size_t)kvh * hd), ldkv, B, T, H, hd, scale, 0.0f);
            plan_xc(x, plan_at_mut(x, dk, (size_t)kvh * hd), ldkv, plan_at(x, dS, head), 1,
                    plan_at(x, q, (size_t)h * hd), ldq, B, T, H, hd, scale, g == 0 ? 0.0f : 1.0f);
        }
}
