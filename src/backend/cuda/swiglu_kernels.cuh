// swiglu_kernels.cuh — the SwiGLU gate of LLaMA's MLP: h = silu(g) · u,
// silu(g) = g·σ(g), bf16 in and out, fp32 arithmetic (expf, not the fast
// intrinsic: the gate is memory-bound, exactness is free). Device code only:
// swiglu.cu launches it, tests/emu/test_kernels_emu.cpp runs it on the host.
#pragma once
#include "backend/cuda/kernels.cuh"

__device__ __forceinline__ float sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

__global__ static void swiglu_fwd_kernel(bf16 *h, const bf16 *g, const bf16 *u, size_t n) {
    GRID_STRIDE(i, n) {
        float gi = ld(g, i);
        st(h, i, gi * sigmoid(gi) * ld(u, i));
    }
}

__global__ static void swiglu_bwd_kernel(bf16 *dg, bf16 *du, const bf16 *dh, const bf16 *g, const bf16 *u, size_t n) {
    GRID_STRIDE(i, n) {
        float gi = ld(g, i), ui = ld(u, i), dhi = ld(dh, i), s = sigmoid(gi);
        st(dg, i, dhi * ui * s * (1.0f + gi * (1.0f - s)));
        st(du, i, dhi * gi * s);
    }
}
