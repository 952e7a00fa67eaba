// fast_exp.h — exp for the CPU kernels' inner loops: branch-free, so the
// compiler vectorises it (glibc's expf is a call per element). Cody–Waite
// range reduction x = n·ln2 + r, |r| ≤ ln2/2, and Cephes' degree-6 polynomial
// for e^r: relative error about 1e-7 (2 ulp) for x in [−87.3, 88.7]; inputs
// outside are clamped (below: ~1e-38 instead of 0, which a softmax cannot see).
#pragma once
#include <math.h>
#include <stdint.h>
#include <string.h>

static inline float slm_expf(float x) {
    x = x < -87.3f ? -87.3f : x > 88.7f ? 88.7f : x;
    float n = floorf(x * 1.44269504088896341f + 0.5f);
    float r = x - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}
