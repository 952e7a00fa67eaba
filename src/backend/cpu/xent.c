// xent.c — softmax and cross-entropy fused over the logits. With dscale != 0
// the logits are overwritten by their gradient, so the [N,V] buffer (the
// largest activation of a small model) is never needed twice. Rows split
// across threads; within a row every pass is a simd loop (slm_expf), the sum
// of exponentials kept in double. In bf16 the logits and their gradient are
// bf16, the max, the sum and the losses fp32.
#include <math.h>

#include "backend/cpu/cpu.h"
#include "backend/cpu/fast_exp.h"

static inline void xent_fwd_bwd(float *losses, void *logits, const int *targets, int N, int V, float dscale, int bf) {
#pragma omp for schedule(static)
    for (int n = 0; n < N; n++) {
        size_t row = (size_t)n * V;
        float mx = -INFINITY;
#pragma omp simd reduction(max : mx)
        for (int i = 0; i < V; i++) {
            float z = cpu_ld(logits, row + i, bf);
            mx = z > mx ? z : mx;
        }
        double sum = 0.0;
#pragma omp simd reduction(+ : sum)
        for (int i = 0; i < V; i++) sum += slm_expf(cpu_ld(logits, row + i, bf) - mx);
        float log_sum = (float)log(sum);
        // (z − max) first, as PyTorch: no rounding at |z|'s scale
        losses[n] = (mx - cpu_ld(logits, row + targets[n], bf)) + log_sum;
        if (dscale != 0.0f) {
            float inv = dscale / (float)sum;
#pragma omp simd
            for (int i = 0; i < V; i++) cpu_st(logits, row + i, inv * slm_expf(cpu_ld(logits, row + i, bf) - mx), bf);
            size_t t = row + targets[n];
            cpu_st(logits, t, cpu_ld(logits, t, bf) - dscale, bf);
        }
    }
}

void cpu_xent_fwd_bwd(float *losses, void *logits, const int *targets, int N, int V, float dscale) {
#pragma omp parallel
    xent_fwd_bwd(losses, logits, targets, N, V, dscale, 0);
}
void cpu_xent_fwd_bwd_bf16(float *losses, void *logits, const int *targets, int N, int V, float dscale) {
#pragma omp parallel
    xent_fwd_bwd(losses, logits, targets, N, V, dscale, 1);
}
