// rmsnorm.cu — the launchers of RMSNorm (kernels and their design in
// rmsnorm_kernels.cuh): one block per row forward and for dx, then dw's
// partial sums per row block and their total.
#include "backend/cuda/cuda.h"
#include "backend/cuda/rmsnorm_kernels.cuh"

void cuda_rmsnorm_fwd(void *out, float *rstd, const void *x, const void *w, int N, int C, float eps) {
    rmsnorm_fwd_kernel<<<N, RMS_THREADS, 0, slm_cuda_stream()>>>((bf16 *)out, rstd, (const bf16 *)x, (const bf16 *)w, C,
                                                                 eps);
    CUDA_CHECK_LAUNCH();
}

void cuda_rmsnorm_bwd(void *dx, float *dw, const void *dout, const void *x, const void *w, const float *rstd, int N,
                      int C) {
    cudaStream_t s = slm_cuda_stream();
    rmsnorm_dx_kernel<<<N, RMS_THREADS, 0, s>>>((bf16 *)dx, (const bf16 *)dout, (const bf16 *)x, (const bf16 *)w, rstd,
                                                C);
    CUDA_CHECK_LAUNCH();
    const int n_part = rms_parts(N);
    float *part = (float *)cuda_scratch(CUDA_SCRATCH_REDUCE, (size_t)n_part * C * sizeof(float));
    const dim3 grid((C + RMS_THREADS - 1) / RMS_THREADS, n_part);
    rmsnorm_dw_partial_kernel<<<grid, RMS_THREADS, 0, s>>>(part, (const bf16 *)dout, (const bf16 *)x, rstd, N, C);
    CUDA_CHECK_LAUNCH();
    rmsnorm_dw_total_kernel<<<grid.x, RMS_THREADS, 0, s>>>(dw, part, n_part, C);
    CUDA_CHECK_LAUNCH();
}
