// swiglu.c — the SwiGLU gate of LLaMA's MLP: h = silu(g) · u, silu(g) = g·σ(g).
// σ through slm_expf, so both loops vectorise.
#include "backend/cpu/cpu.h"
#include "backend/cpu/fast_exp.h"

static inline float sigmoid(float x) { return 1.0f / (1.0f + slm_expf(-x)); }

void cpu_swiglu_fwd(void *h_, const void *g_, const void *u_, size_t n) {
    float *h = h_;
    const float *g = g_, *u = u_;
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < n; i++) h[i] = g[i] * sigmoid(g[i]) * u[i];
}

void cpu_swiglu_bwd(void *dg_, void *du_, const void *dh_, const void *g_, const void *u_, size_t n) {
    float *dg = dg_, *du = du_;
    const float *dh = dh_, *g = g_, *u = u_;
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < n; i++) {
        float s = sigmoid(g[i]);
        float dsilu = s * (1.0f + g[i] * (1.0f - s));
        dg[i] = dh[i] * u[i] * dsilu;
        du[i] = dh[i] * g[i] * s;
    }
}
