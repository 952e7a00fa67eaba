// optim.cu — the launchers of the optimizer's kernels (their design in
// optim_kernels.cuh): AdamW with its bias corrections computed here, sumsq's
// two passes and the host's wait for its total, scale, axpy, the fp32 → bf16 cast.
#include <math.h>

#include "backend/cuda/cuda.h"
#include "backend/cuda/optim_kernels.cuh"

void cuda_adamw(float *p, const float *g, float *m, float *v, void *p_compute, size_t n, float lr, float beta1,
                float beta2, float eps, float weight_decay, int t) {
    const float bc1 = 1.0f - powf(beta1, (float)t), bc2 = 1.0f - powf(beta2, (float)t);
    adamw_kernel<<<elemwise_blocks(n), ELEMWISE_THREADS, 0, slm_cuda_stream()>>>(
        p, g, m, v, (bf16 *)p_compute, n, lr, beta1, beta2, eps, 1.0f - lr * weight_decay, bc1, bc2);
    CUDA_CHECK_LAUNCH();
}

double cuda_sumsq(const float *x, size_t n) {
    double *part = (double *)cuda_scratch(CUDA_SCRATCH_REDUCE, (SUMSQ_BLOCKS + 1) * sizeof(double)), total;
    cudaStream_t s = slm_cuda_stream();
    sumsq_partial_kernel<<<SUMSQ_BLOCKS, SUMSQ_THREADS, 0, s>>>(part, x, n);
    CUDA_CHECK_LAUNCH();
    sumsq_total_kernel<<<1, SUMSQ_THREADS, 0, s>>>(part + SUMSQ_BLOCKS, part, SUMSQ_BLOCKS);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaMemcpyAsync(&total, part + SUMSQ_BLOCKS, sizeof total, cudaMemcpyDeviceToHost, s));
    CUDA_CHECK(cudaStreamSynchronize(s));
    return total;
}

void cuda_scale(float *x, size_t n, float s) {
    scale_kernel<<<elemwise_blocks(n), ELEMWISE_THREADS, 0, slm_cuda_stream()>>>(x, n, s);
    CUDA_CHECK_LAUNCH();
}

void cuda_axpy(float *y, const float *x, size_t n, float a) {
    axpy_kernel<<<elemwise_blocks(n), ELEMWISE_THREADS, 0, slm_cuda_stream()>>>(y, x, n, a);
    CUDA_CHECK_LAUNCH();
}

void cuda_to_compute(void *dst, const float *src, size_t n) {
    to_compute_kernel<<<elemwise_blocks(n), ELEMWISE_THREADS, 0, slm_cuda_stream()>>>((bf16 *)dst, src, n);
    CUDA_CHECK_LAUNCH();
}
