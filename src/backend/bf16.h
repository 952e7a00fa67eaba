// bf16.h — fp32 ↔ bf16 by bit arithmetic, the same code in CUDA kernels, in
// the CPU backend's bf16 ops and on the host, so the tests check the very
// rounding both backends do: round to nearest, ties to even, NaN kept a
// (quiet) NaN. A bf16 is the top 16 bits of an fp32; every bf16 load and store
// of either backend goes through these two functions.
#pragma once
#include <stdint.h>
#include <string.h>

#ifdef __CUDACC__
#define SLM_HD __host__ __device__ __forceinline__
#else
#define SLM_HD static inline
#endif

SLM_HD uint16_t slm_bf16_from_f32(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x0040u);  // NaN: quiet, sign kept
    u += 0x7fffu + ((u >> 16) & 1u);  // ties to even; overflow rounds to ±inf
    return (uint16_t)(u >> 16);
}

SLM_HD float slm_f32_from_bf16(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}
