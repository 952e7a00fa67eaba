// swiglu.cu — the SwiGLU gate of LLaMA's MLP: h = silu(g) · u, silu(g) = g·σ(g),
// bf16 in and out, fp32 arithmetic (expf, not the fast intrinsic: the gate is
// memory-bound, exactness is free).
#include "backend/cuda/kernels.cuh"

__device__ __forceinline__ float sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

__global__ static void swiglu_fwd_kernel(bf16 *h, const bf16 *g, const bf16 *u, size_t n) {
    GRID_STRIDE(i, n) {
        float gi = ld(g, i);
        st(h, i, gi * sigmoid(gi) * ld(u, i));
    }
}

__global__ static void swiglu_bwd_kernel(bf16 *dg, bf16 *du, const bf16 *dh, const bf16 *g, const bf16 *u,
                                         size_t n) {
    GRID_STRIDE(i, n) {
        float gi = ld(g, i), ui = ld(u, i), dhi = ld(dh, i), s = sigmoid(gi);
        st(dg, i, dhi * ui * s * (1.0f + gi * (1.0f - s)));
        st(du, i, dhi * gi * s);
    }
}

void cuda_swiglu_fwd(void *h, const void *g, const void *u, size_t n) {
    swiglu_fwd_kernel<<<elemwise_blocks(n), ELEMWISE_THREADS, 0, slm_cuda_stream()>>>((bf16 *)h, (const bf16 *)g,
                                                                                      (const bf16 *)u, n);
    CUDA_CHECK_LAUNCH();
}

void cuda_swiglu_bwd(void *dg, void *du, const void *dh, const void *g, const void *u, size_t n) {
    swiglu_bwd_kernel<<<elemwise_blocks(n), ELEMWISE_THREADS, 0, slm_cuda_stream()>>>(
        (bf16 *)dg, (bf16 *)du, (const bf16 *)dh, (const bf16 *)g, (const bf16 *)u, n);
    CUDA_CHECK_LAUNCH();
}
