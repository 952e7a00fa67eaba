// swiglu.c — the SwiGLU gate of LLaMA's MLP: h = silu(g) · u, silu(g) = g·σ(g).
// σ through slm_expf, so both loops vectorise.
#include "backend/cpu/cpu.h"
#include "backend/cpu/fast_exp.h"

static inline float sigmoid(float x) { return 1.0f / (1.0f + slm_expf(-x)); }

void cpu_swiglu_fwd(float *h, const float *g, const float *u, size_t n) {
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < n; i++) h[i] = g[i] * sigmoid(g[i]) * u[i];
}

void cpu_swiglu_bwd(float *dg, float *du, const float *dh, const float *g, const float *u, size_t n) {
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < n; i++) {
        float s = sigmoid(g[i]);
        float dsilu = s * (1.0f + g[i] * (1.0f - s));
        dg[i] = dh[i] * u[i] * dsilu;
        du[i] = dh[i] * g[i] * s;
    }
}
