// rmsnorm.c — RMSNorm as Hugging Face's LlamaRMSNorm: y = x·rsqrt(mean(x²)+eps)·w.
// The weight gradient is a sum over rows: threads split the columns, each
// adding the rows in order, so the result does not depend on the thread count
// and no scratch memory is needed. In bf16, x, w, y and dx are bf16 and every
// sum is fp32, as LlamaRMSNorm computes under autocast.
#include <math.h>

#include "backend/cpu/cpu.h"

static inline void rmsnorm_fwd(void *out, float *rstd, const void *x, const void *w, int N, int C, float eps, int bf) {
#pragma omp for schedule(static)
    for (int n = 0; n < N; n++) {
        size_t row = (size_t)n * C;
        float ss = 0.0f;
        for (int c = 0; c < C; c++) {
            float v = cpu_ld(x, row + c, bf);
            ss += v * v;
        }
        float r = 1.0f / sqrtf(ss / C + eps);
        for (int c = 0; c < C; c++) cpu_st(out, row + c, cpu_ld(x, row + c, bf) * r * cpu_ld(w, c, bf), bf);
        rstd[n] = r;
    }
}

static inline void rmsnorm_bwd(void *dx, float *dw, const void *dout, const void *x, const void *w, const float *rstd,
                               int N, int C, int bf) {
#pragma omp for schedule(static)
    for (int n = 0; n < N; n++) {
        size_t row = (size_t)n * C;
        float r = rstd[n], dot = 0.0f;
        for (int c = 0; c < C; c++) dot += cpu_ld(dout, row + c, bf) * cpu_ld(w, c, bf) * cpu_ld(x, row + c, bf);
        float k = dot * r * r * r / C;
        for (int c = 0; c < C; c++) {
            float g = cpu_ld(dout, row + c, bf), v = cpu_ld(x, row + c, bf);
            cpu_st(dx, row + c, cpu_ld(dx, row + c, bf) + r * cpu_ld(w, c, bf) * g - k * v, bf);
        }
    }
    // dw: threads own column blocks, each summing every row in order
    enum { CHUNK = 64 };
    int n_chunks = (C + CHUNK - 1) / CHUNK;
#pragma omp for schedule(static)
    for (int ch = 0; ch < n_chunks; ch++) {
        int c0 = ch * CHUNK, c1 = c0 + CHUNK < C ? c0 + CHUNK : C;
        for (int n = 0; n < N; n++) {
            size_t row = (size_t)n * C;
            for (int c = c0; c < c1; c++) dw[c] += cpu_ld(dout, row + c, bf) * cpu_ld(x, row + c, bf) * rstd[n];
        }
    }
}

void cpu_rmsnorm_fwd(void *out, float *rstd, const void *x, const void *w, int N, int C, float eps) {
#pragma omp parallel
    rmsnorm_fwd(out, rstd, x, w, N, C, eps, 0);
}
void cpu_rmsnorm_fwd_bf16(void *out, float *rstd, const void *x, const void *w, int N, int C, float eps) {
#pragma omp parallel
    rmsnorm_fwd(out, rstd, x, w, N, C, eps, 1);
}
void cpu_rmsnorm_bwd(void *dx, float *dw, const void *dout, const void *x, const void *w, const float *rstd, int N,
                     int C) {
#pragma omp parallel
    rmsnorm_bwd(dx, dw, dout, x, w, rstd, N, C, 0);
}
void cpu_rmsnorm_bwd_bf16(void *dx, float *dw, const void *dout, const void *x, const void *w, const float *rstd, int N,
                          int C) {
#pragma omp parallel
    rmsnorm_bwd(dx, dw, dout, x, w, rstd, N, C, 1);
}
