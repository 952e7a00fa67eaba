// optim.cu — AdamW (torch.optim.AdamW semantics) on fp32 master weights and
// fp32 moments, writing the bf16 copy the forward reads in the same pass;
// the gradient-norm reduction; scale, axpy and the fp32 → bf16 cast.
// sumsq is deterministic: a fixed grid of blocks, each summing a grid-stride
// share in fp64 in a fixed order, then one block adding the partials in order.
#include <math.h>

#include "backend/cuda/kernels.cuh"

__global__ static void adamw_kernel(float *p, const float *g, float *m, float *v, bf16 *p_compute, size_t n,
                                    float lr, float beta1, float beta2, float eps, float decay, float bc1, float bc2) {
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

void cuda_adamw(float *p, const float *g, float *m, float *v, void *p_compute, size_t n, float lr, float beta1,
                float beta2, float eps, float weight_decay, int t) {
    const float bc1 = 1.0f - powf(beta1, (float)t), bc2 = 1.0f - powf(beta2, (float)t);
    adamw_kernel<<<elemwise_blocks(n), ELEMWISE_THREADS, 0, slm_cuda_stream()>>>(
        p, g, m, v, (bf16 *)p_compute, n, lr, beta1, beta2, eps, 1.0f - lr * weight_decay, bc1, bc2);
    CUDA_CHECK_LAUNCH();
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

__global__ static void scale_kernel(float *x, size_t n, float s) {
    GRID_STRIDE(i, n) x[i] *= s;
}

void cuda_scale(float *x, size_t n, float s) {
    scale_kernel<<<elemwise_blocks(n), ELEMWISE_THREADS, 0, slm_cuda_stream()>>>(x, n, s);
    CUDA_CHECK_LAUNCH();
}

__global__ static void axpy_kernel(float *y, const float *x, size_t n, float a) {
    GRID_STRIDE(i, n) y[i] += a * x[i];
}

void cuda_axpy(float *y, const float *x, size_t n, float a) {
    axpy_kernel<<<elemwise_blocks(n), ELEMWISE_THREADS, 0, slm_cuda_stream()>>>(y, x, n, a);
    CUDA_CHECK_LAUNCH();
}

__global__ static void to_compute_kernel(bf16 *dst, const float *src, size_t n) {
    GRID_STRIDE(i, n) st(dst, i, src[i]);
}

void cuda_to_compute(void *dst, const float *src, size_t n) {
    to_compute_kernel<<<elemwise_blocks(n), ELEMWISE_THREADS, 0, slm_cuda_stream()>>>((bf16 *)dst, src, n);
    CUDA_CHECK_LAUNCH();
}
