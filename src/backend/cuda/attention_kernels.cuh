// attention_kernels.cuh — vanilla attention's softmax over the materialised
// scores and its backward, one warp per row of T, SOFTMAX_ROWS_PER_BLOCK rows
// per block, reducing in fp32 in a fixed order (warp shuffles). Device code
// only: attention.cu launches it (between its cuBLASLt GEMMs),
// tests/emu/test_kernels_emu.cpp runs it on the host.
#pragma once
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

static inline unsigned softmax_blocks(size_t rows) {
    return (unsigned)((rows + SOFTMAX_ROWS_PER_BLOCK - 1) / SOFTMAX_ROWS_PER_BLOCK);
}
