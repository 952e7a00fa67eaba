// xent.cu — the launcher of the fused softmax and cross-entropy (kernel and
// its design in xent_kernels.cuh): one block per row.
#include "backend/cuda/cuda.h"
#include "backend/cuda/xent_kernels.cuh"

void cuda_xent_fwd_bwd(float *losses, void *logits, const int *targets, int N, int V, float dscale) {
    xent_kernel<<<N, XENT_THREADS, 0, slm_cuda_stream()>>>(losses, (bf16 *)logits, targets, V, dscale);
    CUDA_CHECK_LAUNCH();
}
