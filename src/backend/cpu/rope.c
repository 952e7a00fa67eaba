// rope.c — rotary position embedding in Hugging Face's rotate-half convention:
// element i is paired with i + hd/2 (not with its neighbour, as in the
// original RoFormer). Applied in place to q or k laid out [B,T,nh,hd]; the
// backward is the same rotation by the opposite angle.
#include "backend/cpu/cpu.h"

static void rope(float *x, const float *cos, const float *sin, int B, int T, int nh, int hd, float sign) {
    int half = hd / 2;
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            const float *ct = cos + (size_t)t * half, *st = sin + (size_t)t * half;
            for (int h = 0; h < nh; h++) {
                float *v = x + (((size_t)b * T + t) * nh + h) * hd;
                for (int i = 0; i < half; i++) {
                    float a = v[i], b2 = v[i + half], c = ct[i], s = sign * st[i];
                    v[i] = a * c - b2 * s;
                    v[i + half] = b2 * c + a * s;
                }
            }
        }
}

void cpu_rope_fwd(void *x_, const float *cos, const float *sin, int B, int T, int nh, int hd) {
    float *x = x_;
    rope(x, cos, sin, B, T, nh, hd, 1.0f);
}

void cpu_rope_bwd(void *dx_, const float *cos, const float *sin, int B, int T, int nh, int hd) {
    float *dx = dx_;
    rope(dx, cos, sin, B, T, nh, hd, -1.0f);
}
