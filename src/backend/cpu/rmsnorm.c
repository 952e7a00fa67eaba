// rmsnorm.c — RMSNorm as Hugging Face's LlamaRMSNorm: y = x·rsqrt(mean(x²)+eps)·w.
// The weight gradient is a sum over rows: threads split the columns, each
// adding the rows in order, so the result does not depend on the thread count
// and no scratch memory is needed.
#include <math.h>

#include "backend/cpu/cpu.h"

void cpu_rmsnorm_fwd(void *out_, float *rstd, const void *x_, const void *w_, int N, int C, float eps) {
    float *out = out_;
    const float *x = x_, *w = w_;
#pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++) {
        const float *xn = x + (size_t)n * C;
        float *on = out + (size_t)n * C;
        float ss = 0.0f;
        for (int c = 0; c < C; c++) ss += xn[c] * xn[c];
        float r = 1.0f / sqrtf(ss / C + eps);
        for (int c = 0; c < C; c++) on[c] = xn[c] * r * w[c];
        rstd[n] = r;
    }
}

void cpu_rmsnorm_bwd(void *dx_, float *dw, const void *dout_, const void *x_, const void *w_, const float *rstd, int N,
                     int C) {
    float *dx = dx_;
    const float *dout = dout_, *x = x_, *w = w_;
#pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++) {
        const float *xn = x + (size_t)n * C, *gn = dout + (size_t)n * C;
        float *dxn = dx + (size_t)n * C;
        float r = rstd[n], dot = 0.0f;
        for (int c = 0; c < C; c++) dot += gn[c] * w[c] * xn[c];
        float k = dot * r * r * r / C;
        for (int c = 0; c < C; c++) dxn[c] += r * w[c] * gn[c] - k * xn[c];
    }
    // dw: threads own column blocks, each summing every row in order
    enum { CHUNK = 64 };
    int n_chunks = (C + CHUNK - 1) / CHUNK;
#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < n_chunks; ch++) {
        int c0 = ch * CHUNK, c1 = c0 + CHUNK < C ? c0 + CHUNK : C;
        for (int n = 0; n < N; n++) {
            const float *xn = x + (size_t)n * C, *gn = dout + (size_t)n * C;
            for (int c = c0; c < c1; c++) dw[c] += gn[c] * xn[c] * rstd[n];
        }
    }
}
