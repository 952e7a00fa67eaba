// swiglu.cu — the launchers of the SwiGLU gate (kernels in swiglu_kernels.cuh).
#include "backend/cuda/cuda.h"
#include "backend/cuda/swiglu_kernels.cuh"

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
