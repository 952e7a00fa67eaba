// rope_kernels.cuh — the rotary position embedding's kernel, Hugging Face's
// rotate-half convention (element i paired with i + hd/2), in place on bf16 q
// or k laid out [B,T,nh,hd]; cos, sin [T, hd/2] fp32. One thread per pair; the
// backward is the same rotation by the opposite angle (sign −1). Device code
// only: rope.cu launches it, tests/emu/test_kernels_emu.cpp runs it on the host.
#pragma once
#include "backend/cuda/kernels.cuh"

__global__ static void rope_kernel(bf16 *x, const float *cos, const float *sin, int T, int nh, int hd, size_t pairs,
                                   float sign) {
    const int half = hd / 2;
    GRID_STRIDE(p, pairs) {
        // p = ((b·T + t)·nh + h)·half + i
        int i = (int)(p % half);
        size_t row = p / half;  // (b·T + t)·nh + h
        int t = (int)((row / nh) % T);
        bf16 *v = x + row * hd;
        float a = ld(v, i), b2 = ld(v, i + half), c = cos[(size_t)t * half + i], s = sign * sin[(size_t)t * half + i];
        st(v, i, a * c - b2 * s);
        st(v, i + half, b2 * c + a * s);
    }
}
