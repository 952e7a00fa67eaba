// xent_kernels.cuh — softmax and cross-entropy fused over the bf16 logits,
// one block per row, in fp32: max, then Σ exp, then the loss; with dscale != 0
// the logits are overwritten by dscale·(softmax − onehot) in bf16, so the
// [N,V] buffer (the largest activation of a small model) is never needed
// twice. Device code only: xent.cu launches it, tests/emu/test_kernels_emu.cpp
// runs it on the host.
#pragma once
#include <math.h>

#include "backend/cuda/kernels.cuh"

enum { XENT_THREADS = 512 };

__global__ static void xent_kernel(float *losses, bf16 *logits, const int *targets, int V, float dscale) {
    bf16 *z = logits + (size_t)blockIdx.x * V;
    float mx = -INFINITY;
    for (int i = threadIdx.x; i < V; i += blockDim.x) mx = fmaxf(mx, ld(z, i));
    mx = block_max(mx);
    float sum = 0.0f;
    for (int i = threadIdx.x; i < V; i += blockDim.x) sum += expf(ld(z, i) - mx);
    sum = block_sum(sum);
    const int target = targets[blockIdx.x];
    // (z − max) first, as PyTorch: no rounding at |z|'s scale
    if (threadIdx.x == 0) losses[blockIdx.x] = (mx - ld(z, target)) + logf(sum);
    if (dscale == 0.0f) return;
    __syncthreads();  // the target's logit is read above before any thread overwrites it
    const float inv = dscale / sum;
    for (int i = threadIdx.x; i < V; i += blockDim.x)
        st(z, i, inv * expf(ld(z, i) - mx) - (i == target ? dscale : 0.0f));
}
