// optim_kernels.cuh — AdamW (torch.optim.AdamW semantics) on fp32 master
// weights and fp32 moments, writing the bf16 copy the forward reads in the
// same pass; the gradient-norm reduction; scale, axpy and the fp32 → bf16
// cast. sumsq is deterministic: a fixed grid of SUMSQ_BLOCKS blocks, each
// summing a grid-stride share in fp64 in a fixed order, then one block adding
// the partials in order. Device code only: optim.cu launches it,
// tests/emu/test_kernels_emu.cpp runs it on the host.
#pragma once
#include <math.h>

#include "backend/cuda/kernels.cuh"

// decay = 1 − lr·weight_decay; bc1, bc2 = 1 − β^t (the bias corrections of step t)
__global__ static void adamw_kernel(float *p, const float *g, float *m, float *v, bf16 *p_compute, size_t n, float lr,
                                    float beta1, float beta2, float eps, float decay, float bc1, float bc2) {
    GRID_STRIDE(i, n) {
        float gi = g[i];
        float mi = beta1 * m[i] + (1.0f - beta1) * gi;
        float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        float pi = p[i] * decay - lr * (mi / bc1) / (sqrtf(vi / bc2) + eps);
        p[i] = pi;
        if (p_compute) st(p_compute, i, pi);
    }
}

enum { SUMSQ_BLOCKS = 1024, SUMSQ_THREADS = 256 };

__global__ static void sumsq_partial_kernel(double *part, const float *x, size_t n) {
    double s = 0.0;
    GRID_STRIDE(i, n) s += (double)x[i] * x[i];
    s = block_sum(s);
    if (threadIdx.x == 0) part[blockIdx.x] = s;
}

__global__ static void sumsq_total_kernel(double *total, const double *part, int n_part) {
    double s = 0.0;
    for (int i = threadIdx.x; i < n_part; i += blockDim.x) s += part[i];
    s = block_sum(s);
    if (threadIdx.x == 0) *total = s;
}

__global__ static void scale_kernel(float *x, size_t n, float s) { GRID_STRIDE(i, n) x[i] *= s; }

__global__ static void axpy_kernel(float *y, const float *x, size_t n, float a) { GRID_STRIDE(i, n) y[i] += a * x[i]; }

__global__ static void to_compute_kernel(bf16 *dst, const float *src, size_t n) {
    GRID_STRIDE(i, n) st(dst, i, src[i]);
}
