// rope.cu — rotary position embedding in Hugging Face's rotate-half
// convention (element i paired with i + hd/2), in place on bf16 q or k laid
// out [B,T,nh,hd]; cos, sin [T, hd/2] fp32. One thread per pair; the backward
// is the same rotation by the opposite angle.
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

static void rope(void *x, const float *cos, const float *sin, int B, int T, int nh, int hd, float sign) {
    size_t pairs = (size_t)B * T * nh * (hd / 2);
    rope_kernel<<<elemwise_blocks(pairs), ELEMWISE_THREADS, 0, slm_cuda_stream()>>>((bf16 *)x, cos, sin, T, nh, hd,
                                                                                    pairs, sign);
    CUDA_CHECK_LAUNCH();
}

void cuda_rope_fwd(void *x, const float *cos, const float *sin, int B, int T, int nh, int hd) {
    rope(x, cos, sin, B, T, nh, hd, 1.0f);
}

void cuda_rope_bwd(void *dx, const float *cos, const float *sin, int B, int T, int nh, int hd) {
    rope(dx, cos, sin, B, T, nh, hd, -1.0f);
}
