// rmsnorm_kernels.cuh — RMSNorm's kernels, as Hugging Face's LlamaRMSNorm,
// y = x·rsqrt(mean(x²)+eps)·w, on bf16 rows with fp32 sums; rstd [N] kept in
// fp32 for the backward. One block per row. The weight gradient (fp32, +=) is
// a sum over rows, done without atomics: blocks of RMS_ROWS rows write fp32
// partial sums, then one pass adds the partials in row-block order; so it is
// deterministic. Device code only: rmsnorm.cu launches it,
// tests/emu/test_kernels_emu.cpp runs it on the host.
#pragma once
#include <math.h>

#include "backend/cuda/kernels.cuh"

enum { RMS_THREADS = 256, RMS_ROWS = 128 };

// Row blocks of the weight gradient's partial sums for N rows.
static inline int rms_parts(int N) { return (N + RMS_ROWS - 1) / RMS_ROWS; }

__global__ static void rmsnorm_fwd_kernel(bf16 *out, float *rstd, const bf16 *x, const bf16 *w, int C, float eps) {
    const size_t row = (size_t)blockIdx.x * C;
    float ss = 0.0f;
    for (int c = threadIdx.x; c < C; c += blockDim.x) {
        float xc = ld(x, row + c);
        ss += xc * xc;
    }
    const float r = rsqrtf(block_sum(ss) / C + eps);
    for (int c = threadIdx.x; c < C; c += blockDim.x) st(out, row + c, ld(x, row + c) * r * ld(w, c));
    if (threadIdx.x == 0) rstd[blockIdx.x] = r;
}

// dx[n,c] += r·w[c]·g[n,c] − (Σ_c g·w·x)·r³/C·x[n,c]
__global__ static void rmsnorm_dx_kernel(bf16 *dx, const bf16 *dout, const bf16 *x, const bf16 *w, const float *rstd,
                                         int C) {
    const size_t row = (size_t)blockIdx.x * C;
    const float r = rstd[blockIdx.x];
    float dot = 0.0f;
    for (int c = threadIdx.x; c < C; c += blockDim.x) dot += ld(dout, row + c) * ld(w, c) * ld(x, row + c);
    const float k = block_sum(dot) * r * r * r / C;
    for (int c = threadIdx.x; c < C; c += blockDim.x)
        st(dx, row + c, ld(dx, row + c) + r * ld(w, c) * ld(dout, row + c) - k * ld(x, row + c));
}

// part[blockIdx.y, c] = Σ over rows of this row block of g·x·r, in row order
__global__ static void rmsnorm_dw_partial_kernel(float *part, const bf16 *dout, const bf16 *x, const float *rstd, int N,
                                                 int C) {
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= C) return;
    const int n0 = blockIdx.y * RMS_ROWS, n1 = n0 + RMS_ROWS < N ? n0 + RMS_ROWS : N;
    float acc = 0.0f;
    for (int n = n0; n < n1; n++) acc += ld(dout, (size_t)n * C + c) * ld(x, (size_t)n * C + c) * rstd[n];
    part[(size_t)blockIdx.y * C + c] = acc;
}

__global__ static void rmsnorm_dw_total_kernel(float *dw, const float *part, int n_part, int C) {
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= C) return;
    float acc = 0.0f;
    for (int p = 0; p < n_part; p++) acc += part[(size_t)p * C + c];
    dw[c] += acc;
}
