// optim.c — AdamW (torch.optim.AdamW semantics), the compute copy of the
// weights (a copy of the fp32 master, or the master rounded to bf16), and the reductions that
// global gradient-norm clipping needs. sumsq splits the array into one fixed
// chunk per thread and adds the chunks in order, so it is deterministic at a
// fixed thread count (an OpenMP reduction clause is not).
#include <math.h>
#include <omp.h>
#include <string.h>

#include "backend/cpu/cpu.h"

// One pass: the moments, the fp32 master and, when pc is given, the compute
// copy (the master itself in fp32, rounded in bf16).
static inline void adamw(float *p, const float *g, float *m, float *v, void *pc, size_t n, float lr, float beta1,
                         float beta2, float eps, float weight_decay, int t, int bf) {
    const float bc1 = 1.0f - powf(beta1, (float)t), bc2 = 1.0f - powf(beta2, (float)t);
    const float decay = 1.0f - lr * weight_decay;
#pragma omp for simd schedule(static)
    for (size_t i = 0; i < n; i++) {
        float gi = g[i];
        float mi = beta1 * m[i] + (1.0f - beta1) * gi;
        float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        float pi = p[i] * decay - lr * (mi / bc1) / (sqrtf(vi / bc2) + eps);
        p[i] = pi;
        if (pc) cpu_st(pc, i, pi, bf);
    }
}

void cpu_to_compute(void *dst, const float *src, size_t n) {
    if (dst != src) memcpy(dst, src, n * sizeof(float));
}

void cpu_to_compute_bf16(void *dst, const float *src, size_t n) {
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < n; i++) cpu_st(dst, i, src[i], 1);
}

void cpu_adamw(float *p, const float *g, float *m, float *v, void *p_compute, size_t n, float lr, float beta1,
               float beta2, float eps, float weight_decay, int t) {
#pragma omp parallel
    adamw(p, g, m, v, p_compute == p ? NULL : p_compute, n, lr, beta1, beta2, eps, weight_decay, t, 0);
}
void cpu_adamw_bf16(float *p, const float *g, float *m, float *v, void *p_compute, size_t n, float lr, float beta1,
                    float beta2, float eps, float weight_decay, int t) {
#pragma omp parallel
    adamw(p, g, m, v, p_compute, n, lr, beta1, beta2, eps, weight_decay, t, 1);
}
double cpu_sumsq(const float *x, size_t n) {
    enum { MAX_THREADS = 1024 };
    double part[MAX_THREADS] = {0};
    int nt = omp_get_max_threads();
    if (nt > MAX_THREADS) nt = MAX_THREADS;
#pragma omp parallel num_threads(nt)
    {
        int t = omp_get_thread_num(), nth = omp_get_num_threads();
        size_t lo = n * t / nth, hi = n * (t + 1) / nth;
        double s = 0.0;
        for (size_t i = lo; i < hi; i++) s += (double)x[i] * x[i];
        part[t] = s;
    }
    double total = 0.0;
    for (int t = 0; t < nt; t++) total += part[t];
    return total;
}

void cpu_scale(float *x, size_t n, float s) {
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < n; i++) x[i] *= s;
}
void cpu_axpy(float *y, const float *x, size_t n, float a) {
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < n; i++) y[i] += a * x[i];
}
