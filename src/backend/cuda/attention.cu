// attention.cu — vanilla causal attention as eager PyTorch computes it in bf16:
// the scores S = q·kᵀ/√hd and the probabilities P = softmax(S) are
// materialised, B·H·T² bf16 each (P saved for backward, S the shared scratch
// the backward reuses for dP and dS). The GEMMs are cuBLASLt batched over the
// B sequences, one call per head, reading q, k, v in place through leading
// dimensions (never copied), in the order gemm_plan.h lays down (grouped
// heads, which GEMM accumulates); here are the softmax and its backward, one
// warp per row, reducing in fp32 in a fixed order.
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

static void softmax(void *P, const void *S, size_t rows, int T) {
    softmax_causal_kernel<<<softmax_blocks(rows), SOFTMAX_ROWS_PER_BLOCK * 32, 0, slm_cuda_stream()>>>(
        (bf16 *)P, (const bf16 *)S, rows, T);
    CUDA_CHECK_LAUNCH();
}

static void softmax_bwd(void *dS, const void *P, size_t rows, int T) {
    softmax_causal_bwd_kernel<<<softmax_blocks(rows), SOFTMAX_ROWS_PER_BLOCK * 32, 0, slm_cuda_stream()>>>(
        (bf16 *)dS, (const bf16 *)P, rows, T);
    CUDA_CHECK_LAUNCH();
}

const gemm_plan_ops cuda_plan_ops = {cuda_gemm, softmax, softmax_bwd, sizeof(bf16)};

void cuda_attention_vanilla_fwd(void *out, void *saved, void *scratch, const void *q, const void *k, const void *v,
                                int B, int T, int H, int KVH, int hd) {
    plan_attention_fwd(&cuda_plan_ops, out, saved, scratch, q, k, v, B, T, H, KVH, hd, 1.0f / sqrtf((float)hd));
}

void cuda_attention_vanilla_bwd(void *dq, void *dk, void *dv, void *scratch, const void *dout, const void *out,
                                const void *saved, const void *q, const void *k, const void *v, int B, int T, int H,
                                int KVH, int hd) {
    plan_attention_bwd(&cuda_plan_ops, dq, dk, dv, scratch, dout, saved, q, k, v, B, T, H, KVH, hd,
                       1.0f / sqrtf((float)hd));
}
