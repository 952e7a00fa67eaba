// xent.c — softmax and cross-entropy fused over the logits. With dscale != 0
// the logits are overwritten by their gradient, so the [N,V] buffer (the
// largest activation of a small model) is never needed twice. Rows split
// across threads; within a row every pass is a simd loop (slm_expf), the sum
// of exponentials kept in double.
#include <math.h>

#include "backend/cpu/cpu.h"
#include "backend/cpu/fast_exp.h"

void cpu_xent_fwd_bwd(float *losses, void *logits_, const int *targets, int N, int V, float dscale) {
    float *logits = logits_;
#pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++) {
        float *z = logits + (size_t)n * V;
        float mx = -INFINITY;
#pragma omp simd reduction(max : mx)
        for (int i = 0; i < V; i++) mx = z[i] > mx ? z[i] : mx;
        double sum = 0.0;
#pragma omp simd reduction(+ : sum)
        for (int i = 0; i < V; i++) sum += slm_expf(z[i] - mx);
        float log_sum = (float)log(sum);
        losses[n] = (mx - z[targets[n]]) + log_sum;  // (z − max) first, as PyTorch: no rounding at |z|'s scale
        if (dscale != 0.0f) {
            float inv = dscale / (float)sum;
#pragma omp simd
            for (int i = 0; i < V; i++) z[i] = inv * slm_expf(z[i] - mx);
            z[targets[n]] -= dscale;
        }
    }
}
