// attention_flash.h — FlashAttention-2 forward and backward on NVIDIA GPUs
// (sm_80 and later), bf16 in and out with fp32 accumulation, causal, scale
// 1/sqrt(hd), for head dims 64 and 128 and any grouped-query ratio.
// defines: slm_cuda_flash_fwd, slm_cuda_flash_bwd, slm_cuda_flash_bwd_scratch_bytes.
//
// Layouts are the model's, row-major: q and out [B,T,H,hd], k and v
// [B,T,KVH,hd], lse [B,H,T]. Query head h reads kv head h / (H/KVH); K and V
// are never copied per query head. Every bf16 tensor must start on a 16-byte
// boundary (the kernels copy rows 16 bytes at a time). The launchers only
// enqueue work on stream s; errors surface at the caller's next synchronising
// CUDA call. Kernels: src/backend/cuda/attention_flash_kernels.cuh; index
// arithmetic: src/backend/flash_schedule.h; design and figures: docs/flash.md.
#pragma once
#include <stddef.h>

#include <cuda_runtime.h>

#ifdef __cplusplus
extern "C" {
#endif

// out [B,T,H,hd] bf16 (=); lse [B,H,T] fp32 (=): the natural log-sum-exp of
// each row's scaled scores, which the backward needs.
void slm_cuda_flash_fwd(void *out, float *lse, const void *q, const void *k, const void *v, int B, int T, int H,
                        int KVH, int hd, cudaStream_t s);

// dq [B,T,H,hd], dk and dv [B,T,KVH,hd], bf16, written (=); grouped heads' dK
// and dV sum into their kv head. scratch: slm_cuda_flash_bwd_scratch_bytes of
// device memory (an fp32 dQ accumulator [B,T,H,hd] and D = rowsum(dO∘O) [B,H,T]),
// 16-byte aligned; its contents on entry do not matter.
void slm_cuda_flash_bwd(void *dq, void *dk, void *dv, void *scratch, const void *dout, const void *out,
                        const float *lse, const void *q, const void *k, const void *v, int B, int T, int H, int KVH,
                        int hd, cudaStream_t s);

// 4·(B·T·H·hd + B·H·T) bytes.
static inline size_t slm_cuda_flash_bwd_scratch_bytes(int B, int T, int H, int hd) {
    return 4 * ((size_t)B * T * H * hd + (size_t)B * H * T);
}

#ifdef __cplusplus
}
#endif
