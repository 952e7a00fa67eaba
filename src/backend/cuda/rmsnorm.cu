// rmsnorm.cu — RMSNorm as Hugging Face's LlamaRMSNorm, y = x·rsqrt(mean(x²)+eps)·w,
// on bf16 rows with fp32 sums; rstd [N] kept in fp32 for the backward. One
// block per row. The weight gradient (fp32, +=) is a sum over rows, done
// without atomics: blocks of RMS_ROWS rows write fp32 partial sums, then one
// pass adds the partials in row-block order; so it is deterministic.
#include <math.h>

#include "backend/cuda/kernels.cuh"

enum { RMS_THREADS = 256, RMS_ROWS = 128 };

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

void cuda_rmsnorm_fwd(void *out, float *rstd, const void *x, const void *w, int N, int C, float eps) {
    rmsnorm_fwd_kernel<<<N, RMS_THREADS, 0, slm_cuda_stream()>>>((bf16 *)out, rstd, (const bf16 *)x,
                                                                 (const bf16 *)w, C, eps);
    CUDA_CHECK_LAUNCH();
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

void cuda_rmsnorm_bwd(void *dx, float *dw, const void *dout, const void *x, const void *w, const float *rstd, int N,
                      int C) {
    cudaStream_t s = slm_cuda_stream();
    rmsnorm_dx_kernel<<<N, RMS_THREADS, 0, s>>>((bf16 *)dx, (const bf16 *)dout, (const bf16 *)x, (const bf16 *)w,
                                                rstd, C);
    CUDA_CHECK_LAUNCH();
    const int n_part = (N + RMS_ROWS - 1) / RMS_ROWS;
    float *part = (float *)cuda_scratch(CUDA_SCRATCH_REDUCE, (size_t)n_part * C * sizeof(float));
    const dim3 grid((C + RMS_THREADS - 1) / RMS_THREADS, n_part);
    rmsnorm_dw_partial_kernel<<<grid, RMS_THREADS, 0, s>>>(part, (const bf16 *)dout, (const bf16 *)x, rstd, N, C);
    CUDA_CHECK_LAUNCH();
    rmsnorm_dw_total_kernel<<<grid.x, RMS_THREADS, 0, s>>>(dw, part, n_part, C);
    CUDA_CHECK_LAUNCH();
}
