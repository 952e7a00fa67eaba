// swiglu.c — the SwiGLU gate of LLaMA's MLP: h = silu(g) · u, silu(g) = g·σ(g).
// σ through slm_expf, so both loops vectorise; in bf16 the tensors are bf16
// and the arithmetic fp32.
#include "backend/cpu/cpu.h"
#include "backend/cpu/fast_exp.h"

static inline float sigmoid(float x) { return 1.0f / (1.0f + slm_expf(-x)); }

static inline void swiglu_fwd(void *h, const void *g, const void *u, size_t n, int bf) {
#pragma omp for simd schedule(static)
    for (size_t i = 0; i < n; i++) {
        float gi = cpu_ld(g, i, bf);
        cpu_st(h, i, gi * sigmoid(gi) * cpu_ld(u, i, bf), bf);
    }
}

static inline void swiglu_bwd(void *dg, void *du, const void *dh, const void *g, const void *u, size_t n, int bf) {
#pragma omp for simd schedule(static)
    for (size_t i = 0; i < n; i++) {
        float gi = cpu_ld(g, i, bf), ui = cpu_ld(u, i, bf), dhi = cpu_ld(dh, i, bf);
        float s = sigmoid(gi);
        float dsilu = s * (1.0f + gi * (1.0f - s));
        cpu_st(dg, i, dhi * ui * dsilu, bf);
        cpu_st(du, i, dhi * gi * s, bf);
    }
}

void cpu_swiglu_fwd(void *h, const void *g, const void *u, size_t n) {
#pragma omp parallel
    swiglu_fwd(h, g, u, n, 0);
}
void cpu_swiglu_fwd_bf16(void *h, const void *g, const void *u, size_t n) {
#pragma omp parallel
    swiglu_fwd(h, g, u, n, 1);
}
void cpu_swiglu_bwd(void *dg, void *du, const void *dh, const void *g, const void *u, size_t n) {
#pragma omp parallel
    swiglu_bwd(dg, du, dh, g, u, n, 0);
}
void cpu_swiglu_bwd_bf16(void *dg, void *du, const void *dh, const void *g, const void *u, size_t n) {
#pragma omp parallel
    swiglu_bwd(dg, du, dh, g, u, n, 1);
}
