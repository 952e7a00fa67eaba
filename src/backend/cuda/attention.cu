// attention.cu — vanilla causal attention as eager PyTorch computes it in bf16:
// the scores S = q·kᵀ/√hd and the probabilities P = softmax(S) are
// materialised, B·H·T² bf16 each (P saved for backward, S the shared scratch
// the backward reuses for dP and dS). The GEMMs are cuBLASLt batched over the
// B sequences, one call per head, reading q, k, v in place through leading
// dimensions (never copied); the softmax and its backward are one warp per
// row, reducing in fp32. Grouped-query attention: query head h reads kv head
// h / (H/KVH); in the backward the heads of a group add into their shared dk
// and dv one after another (g = 0 writes, the others accumulate), so the
// result does not depend on any scheduling.
#include <math.h>

#include "backend/cuda/kernels.cuh"

enum { SOFTMAX_ROWS_PER_BLOCK = 8 };

// P[r, j] = softmax over j ≤ i of S[r, j], zero for j > i; row r = (b·H + h)·T + i.
__global__ static void softmax_causal_kernel(bf16 *P, const bf16 *S, size_t rows, int T) {
    const size_t r = (size_t)blockIdx.x * SOFTMAX_ROWS_PER_BLOCK + threadIdx.x / 32;
    if (r >= rows) return;
    const int lane = threadIdx.x % 32, i = (int)(r % T);
    const bf16 *s = S + r * T;
    bf16 *p = P + r * T;
    float mx = -INFINITY;
    for (int j = lane; j <= i; j += 32) mx = fmaxf(mx, ld(s, j));
    mx = warp_max(mx);
    float sum = 0.0f;
    for (int j = lane; j <= i; j += 32) sum += expf(ld(s, j) - mx);
    const float inv = 1.0f / warp_sum(sum);
    for (int j = lane; j < T; j += 32) st(p, j, j <= i ? expf(ld(s, j) - mx) * inv : 0.0f);
}

// dS[r, j] = P[r, j]·(dP[r, j] − Σ_j' P[r, j']·dP[r, j']), in place over dP; zero for j > i.
__global__ static void softmax_causal_bwd_kernel(bf16 *dS, const bf16 *P, size_t rows, int T) {
    const size_t r = (size_t)blockIdx.x * SOFTMAX_ROWS_PER_BLOCK + threadIdx.x / 32;
    if (r >= rows) return;
    const int lane = threadIdx.x % 32, i = (int)(r % T);
    const bf16 *p = P + r * T;
    bf16 *d = dS + r * T;
    float dot = 0.0f;
    for (int j = lane; j <= i; j += 32) dot += ld(p, j) * ld(d, j);
    dot = warp_sum(dot);
    for (int j = lane; j < T; j += 32) st(d, j, j <= i ? ld(p, j) * (ld(d, j) - dot) : 0.0f);
}

static unsigned softmax_blocks(size_t rows) {
    return (unsigned)((rows + SOFTMAX_ROWS_PER_BLOCK - 1) / SOFTMAX_ROWS_PER_BLOCK);
}

// Row-major X[T,T] (+)= alpha · a[T,hd] · b[T,hd]ᵀ for every sequence: a and b read with row strides
// lda, ldb; sequence b's a at a + b·T·lda, its X at X + b·H·T² (X holds the scores of every (b, h)).
static void gemm_abt(bf16 *X, const bf16 *a, int lda, const bf16 *b, int ldb, int B, int T, int H, int hd,
                     float alpha) {
    // column-major: Xᵀ[T,T] = b' ᵀ · a' with a' = aᵀ [hd,T]
    cuda_gemm_args g = {.trans_a = 1, .trans_b = 0, .m = T, .n = T, .k = hd, .a = b, .lda = ldb,
                        .stride_a = (long long)T * ldb, .b = a, .ldb = lda, .stride_b = (long long)T * lda, .d = X,
                        .ldd = T, .stride_d = (long long)H * T * T, .batch = B, .alpha = alpha, .beta = 0.0f};
    cuda_gemm(&g);
}

// Row-major y[T,hd] (+)= alpha · op(X)[T,T] · c[T,hd], op(X) = X or Xᵀ; c read with row stride ldc, y
// written with ldy; per sequence as in gemm_abt.
static void gemm_xc(bf16 *y, int ldy, const bf16 *X, int trans_x, const bf16 *c, int ldc, int B, int T, int H, int hd,
                    float alpha, float beta) {
    // column-major: yᵀ[hd,T] = c'[hd,T] · op(X)ᵀ', where X' = Xᵀ [T,T]
    cuda_gemm_args g = {.trans_a = 0, .trans_b = trans_x, .m = hd, .n = T, .k = T, .a = c, .lda = ldc,
                        .stride_a = (long long)T * ldc, .b = X, .ldb = T, .stride_b = (long long)H * T * T, .d = y,
                        .ldd = ldy, .stride_d = (long long)T * ldy, .batch = B, .alpha = alpha, .beta = beta};
    cuda_gemm(&g);
}

void cuda_attention_vanilla_fwd(void *out, void *saved, void *scratch, const void *q, const void *k, const void *v,
                                int B, int T, int H, int KVH, int hd) {
    const int ldq = H * hd, ldkv = KVH * hd, group = H / KVH;
    const float scale = 1.0f / sqrtf((float)hd);
    const size_t rows = (size_t)B * H * T;
    bf16 *S = (bf16 *)scratch, *P = (bf16 *)saved;
    const bf16 *qb = (const bf16 *)q, *kb = (const bf16 *)k, *vb = (const bf16 *)v;
    for (int h = 0; h < H; h++)  // S = scale · q · kᵀ
        gemm_abt(S + (size_t)h * T * T, qb + h * hd, ldq, kb + (h / group) * hd, ldkv, B, T, H, hd, scale);
    softmax_causal_kernel<<<softmax_blocks(rows), SOFTMAX_ROWS_PER_BLOCK * 32, 0, slm_cuda_stream()>>>(P, S, rows, T);
    CUDA_CHECK_LAUNCH();
    for (int h = 0; h < H; h++)  // out = P · v
        gemm_xc((bf16 *)out + h * hd, ldq, P + (size_t)h * T * T, 0, vb + (h / group) * hd, ldkv, B, T, H, hd, 1.0f,
                0.0f);
}

void cuda_attention_vanilla_bwd(void *dq, void *dk, void *dv, void *scratch, const void *dout, const void *out,
                                const void *saved, const void *q, const void *k, const void *v, int B, int T, int H,
                                int KVH, int hd) {
    const int ldq = H * hd, ldkv = KVH * hd, group = H / KVH;
    const float scale = 1.0f / sqrtf((float)hd);
    const size_t rows = (size_t)B * H * T;
    bf16 *dS = (bf16 *)scratch;
    const bf16 *P = (const bf16 *)saved, *qb = (const bf16 *)q, *kb = (const bf16 *)k, *vb = (const bf16 *)v,
               *dob = (const bf16 *)dout;
    bf16 *dqb = (bf16 *)dq, *dkb = (bf16 *)dk, *dvb = (bf16 *)dv;
    // g outer, kv head inner: the first head of every group writes dk, dv, the others add in order
    for (int g = 0; g < group; g++)
        for (int kvh = 0; kvh < KVH; kvh++) {
            const int h = kvh * group + g;
            const size_t head = (size_t)h * T * T;
            const float beta = g == 0 ? 0.0f : 1.0f;
            gemm_abt(dS + head, dob + h * hd, ldq, vb + kvh * hd, ldkv, B, T, H, hd, 1.0f);  // dP = dout · vᵀ
            gemm_xc(dvb + kvh * hd, ldkv, P + head, 1, dob + h * hd, ldq, B, T, H, hd, 1.0f, beta);  // dv (+)= Pᵀ·dout
        }
    softmax_causal_bwd_kernel<<<softmax_blocks(rows), SOFTMAX_ROWS_PER_BLOCK * 32, 0, slm_cuda_stream()>>>(dS, P, rows,
                                                                                                        T);
    CUDA_CHECK_LAUNCH();
    for (int g = 0; g < group; g++)
        for (int kvh = 0; kvh < KVH; kvh++) {
            const int h = kvh * group + g;
            const size_t head = (size_t)h * T * T;
            // dq = scale · dS · k;  dk (+)= scale · dSᵀ · q
            gemm_xc(dqb + h * hd, ldq, dS + head, 0, kb + kvh * hd, ldkv, B, T, H, hd, scale, 0.0f);
            gemm_xc(dkb + kvh * hd, ldkv, dS + head, 1, qb + h * hd, ldq, B, T, H, hd, scale, g == 0 ? 0.0f : 1.0f);
        }
}
