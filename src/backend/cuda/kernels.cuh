// kernels.cuh — device helpers every kernel file shares: bf16 loads and
// stores (through bf16.h), the grid size of an elementwise launch, and sums and
// maxima across a warp and a block. Reductions run in a fixed order (shuffle
// tree, then warp 0 over the warps' partials), so the same input gives bitwise
// the same result at every run; every thread gets the result.
// Device code only (and the grid of an elementwise launch): no CUDA runtime
// header, so tests/emu/test_kernels_emu.cpp compiles the kernel headers with
// g++ against tests/emu/cuda_emu.h; the .cu launchers include cuda.h.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "backend/bf16.h"

typedef uint16_t bf16;  // storage of a bf16 value; arithmetic is always in fp32

__device__ __forceinline__ float ld(const bf16 *p, size_t i) { return slm_f32_from_bf16(p[i]); }
__device__ __forceinline__ void st(bf16 *p, size_t i, float x) { p[i] = slm_bf16_from_f32(x); }

enum { ELEMWISE_THREADS = 256 };
// Blocks for a grid-stride loop over n elements (capped: each thread loops).
static inline unsigned elemwise_blocks(size_t n) {
    size_t b = (n + ELEMWISE_THREADS - 1) / ELEMWISE_THREADS;
    return b == 0 ? 1u : b > 65535u * 8u ? 65535u * 8u : (unsigned)b;
}
#define GRID_STRIDE(i, n) \
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (size_t)gridDim.x * blockDim.x)

template <typename T>
__device__ __forceinline__ T warp_sum(T x) {
    for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(0xffffffffu, x, o);
    return x;
}

__device__ __forceinline__ float warp_max(float x) {
    for (int o = 16; o > 0; o >>= 1) x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, o));
    return x;
}

// blockDim.x a multiple of 32, at most 1024. Uses shared memory of 32 T; safe to call twice in a row.
template <typename T>
__device__ T block_sum(T x) {
    __shared__ T part[32];
    __shared__ T total;
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, nw = blockDim.x / 32;
    x = warp_sum(x);
    if (lane == 0) part[warp] = x;
    __syncthreads();
    if (warp == 0) {
        T y = lane < nw ? part[lane] : T(0);
        y = warp_sum(y);
        if (lane == 0) total = y;
    }
    __syncthreads();
    return total;
}

__device__ __forceinline__ float block_max(float x) {
    __shared__ float part[32];
    __shared__ float total;
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, nw = blockDim.x / 32;
    x = warp_max(x);
    if (lane == 0) part[warp] = x;
    __syncthreads();
    if (warp == 0) {
        float y = lane < nw ? part[lane] : -INFINITY;
        y = warp_max(y);
        if (lane == 0) total = y;
    }
    __syncthreads();
    return total;
}
