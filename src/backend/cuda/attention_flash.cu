// attention_flash.cu — the launchers of slm.c's FlashAttention-2 kernels for
// bf16 (attention_flash.h): grid and shared memory per kernel, head dims 64 and
// 128, and the backward's order (D, then dK/dV with dQ accumulated in fp32,
// then dQ scaled and rounded).
//
// The one design decision: the kernels live in attention_flash_kernels.cuh,
// the PTX they issue in ptx.cuh, so the host emulation in tests/emu runs the
// same kernel code with those instructions emulated; this file only launches.
#include <cuda_bf16.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "backend/cuda/attention_flash.h"
#include "backend/cuda/ptx.cuh"  // before the kernels, which use its PTX wrappers

#include "backend/cuda/attention_flash_kernels.cuh"

namespace {

template <int HD>
void fwd_launch(void *out, float *lse, const void *q, const void *k, const void *v, int B, int T, int H, int KVH,
                cudaStream_t s) {
    const size_t smem = fwd_smem_bytes<HD>();
    cudaFuncSetAttribute(flash_fwd_kernel<HD>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
    const dim3 grid(slm_flash_n_tiles(T, kBR), H, B);
    flash_fwd_kernel<HD><<<grid, kThreads, smem, s>>>((uint16_t *)out, lse, (const uint16_t *)q, (const uint16_t *)k,
                                                      (const uint16_t *)v, T, H, KVH, kLog2e / sqrtf((float)HD));
}

template <int HD>
void bwd_launch(void *dk, void *dv, float *dq_acc, const float *D, const void *dout, const float *lse, const void *q,
                const void *k, const void *v, int B, int T, int H, int KVH, cudaStream_t s) {
    const size_t smem = bwd_smem_bytes<HD>();
    cudaFuncSetAttribute(flash_bwd_kernel<HD>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
    const dim3 grid(slm_flash_n_tiles(T, kBC), KVH, B);
    const float scale = 1.0f / sqrtf((float)HD);
    flash_bwd_kernel<HD><<<grid, kThreads, smem, s>>>((uint16_t *)dk, (uint16_t *)dv, dq_acc, (const uint16_t *)dout,
                                                      lse, D, (const uint16_t *)q, (const uint16_t *)k,
                                                      (const uint16_t *)v, T, H, KVH, scale, scale * kLog2e);
}

// Head dims the kernels are built for; the model config is checked at the
// edge, so another one here is a caller's bug.
void check_head_dim(const char *who, int hd) {
    if (hd == 64 || hd == 128) return;
    fprintf(stderr, "%s: head dim %d is not supported, expected 64 or 128\n", who, hd);
    abort();
}

}  // namespace

extern "C" void slm_cuda_flash_fwd(void *out, float *lse, const void *q, const void *k, const void *v, int B, int T,
                                   int H, int KVH, int hd, cudaStream_t s) {
    check_head_dim("slm_cuda_flash_fwd", hd);
    if (hd == 64)
        fwd_launch<64>(out, lse, q, k, v, B, T, H, KVH, s);
    else
        fwd_launch<128>(out, lse, q, k, v, B, T, H, KVH, s);
}

extern "C" void slm_cuda_flash_bwd(void *dq, void *dk, void *dv, void *scratch, const void *dout, const void *out,
                                   const float *lse, const void *q, const void *k, const void *v, int B, int T, int H,
                                   int KVH, int hd, cudaStream_t s) {
    check_head_dim("slm_cuda_flash_bwd", hd);
    const size_t n_q = (size_t)B * T * H * hd, n_rows = (size_t)B * T * H;
    float *dq_acc = (float *)scratch, *D = dq_acc + n_q;
    cudaMemsetAsync(dq_acc, 0, n_q * sizeof(float), s);
    const int rows_per_block = 8;  // warps of 256 threads
    flash_bwd_dot_kernel<<<(unsigned)((n_rows + rows_per_block - 1) / rows_per_block), 32 * rows_per_block, 0, s>>>(
        D, (const uint16_t *)dout, (const uint16_t *)out, T, H, hd, n_rows);
    if (hd == 64)
        bwd_launch<64>(dk, dv, dq_acc, D, dout, lse, q, k, v, B, T, H, KVH, s);
    else
        bwd_launch<128>(dk, dv, dq_acc, D, dout, lse, q, k, v, B, T, H, KVH, s);
    const size_t blocks = (n_q + 255) / 256;
    flash_bwd_dq_kernel<<<(unsigned)(blocks < 65536 ? blocks : 65536), 256, 0, s>>>((uint16_t *)dq, dq_acc, n_q,
                                                                                    1.0f / sqrtf((float)hd));
}
