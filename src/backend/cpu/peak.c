// peak.c — the machine's fp32 GEMM peak as `slm peak` measures it: square
// SGEMMs through the CBLAS the backend uses, on every OpenMP thread, the best
// of several repetitions after a warm-up (a peak is the best the machine did,
// not its average under other load).
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>

#include "backend/cpu/cpu.h"
#include "core/clock.h"
#include "core/err.h"

double cpu_gemm_flops_per_s(int n, int reps) {
    size_t nn = (size_t)n * n;
    float *a = slm_xmalloc(nn * sizeof(float)), *b = slm_xmalloc(nn * sizeof(float)),
          *c = slm_xmalloc(nn * sizeof(float));
    for (size_t i = 0; i < nn; i++) {
        a[i] = (float)(i % 251) / 251.0f - 0.5f;
        b[i] = (float)(i % 241) / 241.0f - 0.5f;
    }
    double best = 0.0;
    for (int r = 0; r <= reps; r++) {  // r = 0 is the warm-up: first touch, thread start
        double t0 = slm_now_s();
        // c[n,n] = a[n,n] · b[n,n]ᵀ, the layout of a projection (matmul.c)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        double dt = slm_now_s() - t0, rate = 2.0 * n * (double)nn / dt;
        if (r > 0 && rate > best) best = rate;
    }
    free(a);
    free(b);
    free(c);
    return best;
}

const char *cpu_gemm_library(void) {
    static char name[128];
    if (!name[0]) snprintf(name, sizeof name, "OpenBLAS sgemm (%s)", openblas_get_config());
    return name;
}
