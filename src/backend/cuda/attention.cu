// attention.cu — vanilla causal attention as eager PyTorch computes it in bf16:
// the scores S = q·kᵀ/√hd and the probabilities P = softmax(S) are
// materialised, B·H·T² bf16 each (P saved for backward, S the shared scratch
// the backward reuses for dP and dS). The GEMMs are cuBLASLt batched over the
// B sequences, one call per head, reading q, k, v in place through leading
// dimensions (never copied), in the order gemm_plan.h lays down (grouped
// heads, which GEMM accumulates); here are the launchers of the softmax and
// its backward, whose kernels are in attention_kernels.cuh.
#include <math.h>

#include "backend/cuda/attention_kernels.cuh"
#include "backend/cuda/cuda.h"

static void softmax(void *P, const void *S, size_t rows, int T) {
    softmax_causal_kernel<<<softmax_blocks(rows), SOFTMAX_ROWS_PER_BLOCK * 32, 0, slm_cuda_stream()>>>(
        (bf16 *)P, (const bf16 *)S, rows, T);
    CUDA_CHECK_LAUNCH();
}

static void softmax_bwd(void *dS, const void *P, size_t rows, int T) {
    softmax_causal_bwd_kernel<<<softmax_blocks(rows), SOFTMAX_ROWS_PER_BLOCK * 32, 0, slm_cuda_stream()>>>(
        (bf16 *)dS, (const bf16 *)P, rows, T);
    CUDA_CHECK_LAUNCH();
}

const gemm_plan_ops cuda_plan_ops = {cuda_gemm, softmax, softmax_bwd, sizeof(bf16)};

void cuda_attention_vanilla_fwd(void *out, void *saved, void *scratch, const void *q, const void *k, const void *v,
                                int B, int T, int H, int KVH, int hd) {
    plan_attention_fwd(&cuda_plan_ops, out, saved, scratch, q, k, v, B, T, H, KVH, hd, 1.0f / sqrtf((float)hd));
}

void cuda_attention_vanilla_bwd(void *dq, void *dk, void *dv, void *scratch, const void *dout, const void *out,
                                const void *saved, const void *q, const void *k, const void *v, int B, int T, int H,
                                int KVH, int hd) {
    plan_attention_bwd(&cuda_plan_ops, dq, dk, dv, scratch, dout, saved, q, k, v, B, T, H, KVH, hd,
                       1.0f / sqrtf((float)hd));
}
