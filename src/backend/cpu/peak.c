// peak.c — the machine's GEMM peak as `slm peak` measures it, in either
// compute dtype: square GEMMs through cpu_gemm (the sgemm or the oneDNN
// matmul the ops use), on every OpenMP thread, the best of several
// repetitions after a warm-up (a peak is the best the machine did, not its
// average under other load).
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>

#include "backend/cpu/cpu.h"
#include "core/clock.h"
#include "core/err.h"

static double gemm_flops_per_s(int n, int reps, slm_dtype t) {
    size_t nn = (size_t)n * n, es = slm_dtype_bytes(t);
    char *a = slm_xmalloc(nn * es), *b = slm_xmalloc(nn * es), *c = slm_xmalloc(nn * es);
    for (size_t i = 0; i < nn; i++) {
        cpu_st(a, i, (float)(i % 251) / 251.0f - 0.5f, t == SLM_BF16);
        cpu_st(b, i, (float)(i % 241) / 241.0f - 0.5f, t == SLM_BF16);
    }
    double best = 0.0;
    for (int r = 0; r <= reps; r++) {  // r = 0 is the warm-up: first touch, thread start, primitive creation
        double t0 = slm_now_s();
        // c[n,n] = a[n,n] · b[n,n]ᵀ, the layout of a projection (matmul.c)
        cpu_gemm(t, t, 0, 1, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        double dt = slm_now_s() - t0, rate = 2.0 * n * (double)nn / dt;
        if (r > 0 && rate > best) best = rate;
    }
    free(a);
    free(b);
    free(c);
    return best;
}

double cpu_gemm_flops_per_s(int n, int reps) { return gemm_flops_per_s(n, reps, SLM_F32); }
double cpu_gemm_flops_per_s_bf16(int n, int reps) { return gemm_flops_per_s(n, reps, SLM_BF16); }

const char *cpu_gemm_library(void) {
    static char name[128];
    if (!name[0]) snprintf(name, sizeof name, "OpenBLAS sgemm (%s)", openblas_get_config());
    return name;
}
