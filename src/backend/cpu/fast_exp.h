// fast_exp.h — exp for the CPU kernels' inner loops: branch-free, so the
// compiler vectorises it (glibc's expf is a call per element). Cody–Waite
// range reduction x = n·ln2 + r, |r| ≤ ln2/2, and Cephes' degree-6 polynomial
// for e^r: relative error about 1e-7 (2 ulp) for x in [−87.3, 88.7]; below
// −88 it returns 0, above 89 +inf (both out to |x| = 2.9e6, where the rounding
// trick ends), so σ(x) = 1/(1 + e^−x) is right for every x the kernels see. No
// float comparison: GCC does not if-convert those, and the loop would not vectorise.
#pragma once
#include <math.h>
#include <stdint.h>
#include <string.h>

static inline float slm_expf(float x) {
    // round to nearest by the 1.5·2²³ trick (floorf does not vectorise)
    float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    int32_t ni = (int32_t)n;
    ni = ni < -127 ? -127 : ni;  // 2^-127 → bits 0 → the result is exactly 0
    ni = ni > 128 ? 128 : ni;    // 2^128 → bits of +inf
    float r = x - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t bits = (ni + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}
