// rmsnorm.c — RMSNorm as Hugging Face's LlamaRMSNorm: y = x·rsqrt(mean(x²)+eps)·w.
// The weight gradient is a sum over rows: each thread sums its own rows into
// a private buffer and the buffers are added in thread order, so the result
// is the same run after run at a fixed thread count.
#include <math.h>
#include <omp.h>
#include <stdlib.h>

#include "backend/cpu/cpu.h"
#include "core/err.h"

void cpu_rmsnorm_fwd(float *out, float *rstd, const float *x, const float *w, int N, int C, float eps) {
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

void cpu_rmsnorm_bwd(float *dx, float *dw, const float *dout, const float *x, const float *w, const float *rstd, int N,
                     int C) {
    int nt = omp_get_max_threads();
    float *dw_part = slm_xcalloc((size_t)nt * C, sizeof(float));
#pragma omp parallel num_threads(nt)
    {
        float *my_dw = dw_part + (size_t)omp_get_thread_num() * C;
#pragma omp for schedule(static)
        for (int n = 0; n < N; n++) {
            const float *xn = x + (size_t)n * C, *gn = dout + (size_t)n * C;
            float *dxn = dx + (size_t)n * C;
            float r = rstd[n], dot = 0.0f;
            for (int c = 0; c < C; c++) dot += gn[c] * w[c] * xn[c];
            float k = dot * r * r * r / C;
            for (int c = 0; c < C; c++) {
                dxn[c] += r * w[c] * gn[c] - k * xn[c];
                my_dw[c] += gn[c] * xn[c] * r;
            }
        }
    }
    for (int t = 0; t < nt; t++)
        for (int c = 0; c < C; c++) dw[c] += dw_part[(size_t)t * C + c];
    free(dw_part);
}
