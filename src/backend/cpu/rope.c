// rope.c — rotary position embedding in Hugging Face's rotate-half convention:
// element i is paired with i + hd/2 (not with its neighbour, as in the
// original RoFormer). Applied in place to q or k laid out [B,T,nh,hd]; the
// backward is the same rotation by the opposite angle. The tables are fp32;
// in bf16 each rotated pair is computed in fp32 and rounded once.
#include "backend/cpu/cpu.h"

static inline void rope(void *x, const float *cos, const float *sin, int B, int T, int nh, int hd, float sign, int bf) {
    int half = hd / 2;
#pragma omp for collapse(2) schedule(static)
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            const float *ct = cos + (size_t)t * half, *st = sin + (size_t)t * half;
            for (int h = 0; h < nh; h++) {
                size_t v = (((size_t)b * T + t) * nh + h) * hd;
                for (int i = 0; i < half; i++) {
                    float a = cpu_ld(x, v + i, bf), b2 = cpu_ld(x, v + i + half, bf), c = ct[i], s = sign * st[i];
                    cpu_st(x, v + i, a * c - b2 * s, bf);
                    cpu_st(x, v + i + half, b2 * c + a * s, bf);
                }
            }
        }
}

void cpu_rope_fwd(void *x, const float *cos, const float *sin, int B, int T, int nh, int hd) {
#pragma omp parallel
    rope(x, cos, sin, B, T, nh, hd, 1.0f, 0);
}
void cpu_rope_fwd_bf16(void *x, const float *cos, const float *sin, int B, int T, int nh, int hd) {
#pragma omp parallel
    rope(x, cos, sin, B, T, nh, hd, 1.0f, 1);
}
void cpu_rope_bwd(void *dx, const float *cos, const float *sin, int B, int T, int nh, int hd) {
#pragma omp parallel
    rope(dx, cos, sin, B, T, nh, hd, -1.0f, 0);
}
void cpu_rope_bwd_bf16(void *dx, const float *cos, const float *sin, int B, int T, int nh, int hd) {
#pragma omp parallel
    rope(dx, cos, sin, B, T, nh, hd, -1.0f, 1);
}
