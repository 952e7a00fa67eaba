// rope.cu — the launchers of the rotary position embedding (kernel and its
// layout in rope_kernels.cuh): forward, and backward as the opposite rotation.
#include "backend/cuda/cuda.h"
#include "backend/cuda/rope_kernels.cuh"

static void rope(void *x, const float *cos, const float *sin, int B, int T, int nh, int hd, float sign) {
    size_t pairs = (size_t)B * T * nh * (hd / 2);
    rope_kernel<<<elemwise_blocks(pairs), ELEMWISE_THREADS, 0, slm_cuda_stream()>>>((bf16 *)x, cos, sin, T, nh, hd,
                                                                                    pairs, sign);
    CUDA_CHECK_LAUNCH();
}

void cuda_rope_fwd(void *x, const float *cos, const float *sin, int B, int T, int nh, int hd) {
    rope(x, cos, sin, B, T, nh, hd, 1.0f);
}

void cuda_rope_bwd(void *dx, const float *cos, const float *sin, int B, int T, int nh, int hd) {
    rope(dx, cos, sin, B, T, nh, hd, -1.0f);
}
