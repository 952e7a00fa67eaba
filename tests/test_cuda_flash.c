// test_cuda_flash.c — the CUDA FlashAttention-2 kernels (slm_cuda_flash_fwd,
// slm_cuda_flash_bwd; bf16) against the CPU backend's flash attention (fp32)
// fed the same bf16-rounded q, k, v and dO, over shapes awkward for 64-row
// tiles: T = 1, 17, 63, 64, 65, 127, 300, 1024; head dims 64 and 128; GQA
// ratios H/KVH = 1, 2, 4; B = 1 and 2. Also: two forward runs are bitwise equal.
//
// Tolerances. Errors are max |gpu − cpu| over max |cpu| of each tensor, or
// over 0.01 where that is smaller: at T = 1 (softmax over one key) dQ and dK
// are zero in exact arithmetic and both sides hold only rounding (~1e-7), so
// they are compared in absolute terms; every other tensor here is far above 0.01.
// The GPU rounds its outputs to bf16 (relative 2^-9 per element), rounds P to
// bf16 before P·V (and P, dS before the backward's products), and D is taken
// from the bf16 O; each costs a relative ~2^-9 per term, and sums of up to T
// such terms of mixed sign stay well under 1% (an fp64 emulation of exactly
// these roundings, on these input ranges and T ≤ 1024, gave 2e-3 to 5e-3).
// So: ≤ 2e-2 for O, dQ, dK, dV.
// lse is computed in fp32 from exact bf16 products on both sides (no bf16
// rounding on its path): ≤ 1e-3 absolute.
//
// Without a GPU (cudaGetDeviceCount fails or finds none) it prints
// "skipped: no GPU"; built without CUDA, "skipped: built without CUDA".
// label: gpu
#include <stdio.h>

#ifndef SLM_HAVE_CUDA
int main(void) {
    printf("skipped: built without CUDA\n");
    return 0;
}
#else
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "backend/bf16.h"
#include "backend/cuda/attention_flash.h"
#include "testutil.h"

static uint64_t seed = 2024;

// n uniform values in [lo, hi), rounded to bf16: bits in *bits, values returned.
static float *rnd_bf16(size_t n, float lo, float hi, uint16_t **bits) {
    float *x = malloc(n * sizeof(float));
    *bits = malloc(n * sizeof(uint16_t));
    t_fill_uniform(x, n, &seed, lo, hi);
    for (size_t i = 0; i < n; i++) {
        (*bits)[i] = slm_bf16_from_f32(x[i]);
        x[i] = slm_f32_from_bf16((*bits)[i]);
    }
    return x;
}

// max |a − ref| / max(max |ref|, 0.01) with a given as bf16 bits.
static double rel_err_bf16(const uint16_t *a, const float *ref, size_t n) {
    double d = 0, mx = 0.01;
    for (size_t i = 0; i < n; i++) {
        double x = slm_f32_from_bf16(a[i]);
        if (!isfinite(x)) return INFINITY;
        d = fmax(d, fabs(x - ref[i]));
        mx = fmax(mx, fabs((double)ref[i]));
    }
    return d / mx;
}

static double abs_err(const float *a, const float *ref, size_t n) {
    double d = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(a[i])) return INFINITY;
        d = fmax(d, fabs((double)a[i] - ref[i]));
    }
    return d;
}

static int cuda_ok(cudaError_t e, const char *what) {
    if (e == cudaSuccess) return 1;
    t_check(0, "%s: %s", what, cudaGetErrorString(e));
    return 0;
}

static void *dev_copy(const void *host, size_t bytes) {
    void *d = NULL;
    if (!cuda_ok(cudaMalloc(&d, bytes), "cudaMalloc")) return NULL;
    if (host) cuda_ok(cudaMemcpy(d, host, bytes, cudaMemcpyHostToDevice), "copy to device");
    return d;
}

static void compare(int B, int T, int H, int KVH, int hd) {
    const size_t nq = (size_t)B * T * H * hd, nkv = (size_t)B * T * KVH * hd, nl = (size_t)B * H * T;
    uint16_t *q16, *k16, *v16, *do16;
    float *q = rnd_bf16(nq, -2, 2, &q16), *k = rnd_bf16(nkv, -2, 2, &k16), *v = rnd_bf16(nkv, -1, 1, &v16),
          *dout = rnd_bf16(nq, -1, 1, &do16);

    // reference: the CPU backend's flash attention in fp32
    const slm_ops *op = slm_backend_cpu()->ops;
    size_t saved_b, scratch_b;
    slm_attention_sizes(SLM_ATTN_FLASH, B, T, H, hd, sizeof(float), &saved_b, &scratch_b);
    float *r_out = malloc(nq * 4), *r_lse = malloc(saved_b + 4), *r_scr = malloc(scratch_b + 4);
    float *r_dq = malloc(nq * 4), *r_dk = malloc(nkv * 4), *r_dv = malloc(nkv * 4);
    op->attention_flash_fwd(r_out, r_lse, r_scr, q, k, v, B, T, H, KVH, hd);
    op->attention_flash_bwd(r_dq, r_dk, r_dv, r_scr, dout, r_out, r_lse, q, k, v, B, T, H, KVH, hd);

    uint16_t *g_out = malloc(nq * 2), *g_out2 = malloc(nq * 2), *g_dq = malloc(nq * 2), *g_dk = malloc(nkv * 2),
             *g_dv = malloc(nkv * 2);
    float *g_lse = malloc(nl * 4), *g_lse2 = malloc(nl * 4);
    void *d_q = dev_copy(q16, nq * 2), *d_k = dev_copy(k16, nkv * 2), *d_v = dev_copy(v16, nkv * 2),
         *d_dout = dev_copy(do16, nq * 2), *d_out = dev_copy(NULL, nq * 2), *d_lse = dev_copy(NULL, nl * 4),
         *d_dq = dev_copy(NULL, nq * 2), *d_dk = dev_copy(NULL, nkv * 2), *d_dv = dev_copy(NULL, nkv * 2),
         *d_scr = dev_copy(NULL, slm_cuda_flash_bwd_scratch_bytes(B, T, H, hd));
    int ok = d_q && d_k && d_v && d_dout && d_out && d_lse && d_dq && d_dk && d_dv && d_scr;
    if (ok) {
        slm_cuda_flash_fwd(d_out, d_lse, d_q, d_k, d_v, B, T, H, KVH, hd, 0);
        ok = cuda_ok(cudaGetLastError(), "forward launch") && cuda_ok(cudaDeviceSynchronize(), "forward") &&
             cuda_ok(cudaMemcpy(g_out, d_out, nq * 2, cudaMemcpyDeviceToHost), "copy out") &&
             cuda_ok(cudaMemcpy(g_lse, d_lse, nl * 4, cudaMemcpyDeviceToHost), "copy lse");
    }
    if (ok) {
        slm_cuda_flash_fwd(d_out, d_lse, d_q, d_k, d_v, B, T, H, KVH, hd, 0);
        slm_cuda_flash_bwd(d_dq, d_dk, d_dv, d_scr, d_dout, d_out, d_lse, d_q, d_k, d_v, B, T, H, KVH, hd, 0);
        ok = cuda_ok(cudaGetLastError(), "backward launch") &&
             cuda_ok(cudaDeviceSynchronize(), "forward again, backward") &&
             cuda_ok(cudaMemcpy(g_out2, d_out, nq * 2, cudaMemcpyDeviceToHost), "copy out") &&
             cuda_ok(cudaMemcpy(g_lse2, d_lse, nl * 4, cudaMemcpyDeviceToHost), "copy lse") &&
             cuda_ok(cudaMemcpy(g_dq, d_dq, nq * 2, cudaMemcpyDeviceToHost), "copy dq") &&
             cuda_ok(cudaMemcpy(g_dk, d_dk, nkv * 2, cudaMemcpyDeviceToHost), "copy dk") &&
             cuda_ok(cudaMemcpy(g_dv, d_dv, nkv * 2, cudaMemcpyDeviceToHost), "copy dv");
    }
    if (ok) {
        double e_o = rel_err_bf16(g_out, r_out, nq), e_l = abs_err(g_lse, r_lse, nl);
        double e_dq = rel_err_bf16(g_dq, r_dq, nq), e_dk = rel_err_bf16(g_dk, r_dk, nkv),
               e_dv = rel_err_bf16(g_dv, r_dv, nkv);
        t_check(e_o <= 2e-2 && e_l <= 1e-3,
                "forward [B=%d T=%d H=%d KVH=%d hd=%d]: out %.1e (tol 2e-2), lse %.1e (tol 1e-3)", B, T, H, KVH, hd,
                e_o, e_l);
        t_check(e_dq <= 2e-2 && e_dk <= 2e-2 && e_dv <= 2e-2,
                "backward [B=%d T=%d H=%d KVH=%d hd=%d]: dq %.1e, dk %.1e, dv %.1e (tol 2e-2)", B, T, H, KVH, hd, e_dq,
                e_dk, e_dv);
        t_check(!memcmp(g_out, g_out2, nq * 2) && !memcmp(g_lse, g_lse2, nl * 4),
                "forward deterministic [B=%d T=%d H=%d KVH=%d hd=%d]: two runs bitwise equal", B, T, H, KVH, hd);
    }
    void *dev[] = {d_q, d_k, d_v, d_dout, d_out, d_lse, d_dq, d_dk, d_dv, d_scr};
    for (size_t i = 0; i < sizeof dev / sizeof dev[0]; i++) cudaFree(dev[i]);
    void *host[] = {q,    k,    v,    dout,  q16,    k16,  v16,  do16, r_out, r_lse, r_scr,
                    r_dq, r_dk, r_dv, g_out, g_out2, g_dq, g_dk, g_dv, g_lse, g_lse2};
    for (size_t i = 0; i < sizeof host / sizeof host[0]; i++) free(host[i]);
}

int main(void) {
    int n_dev = 0;
    if (cudaGetDeviceCount(&n_dev) != cudaSuccess || n_dev == 0) {
        printf("skipped: no GPU\n");
        return 0;
    }
    static const int Ts[] = {1, 17, 63, 64, 65, 127, 300, 1024};
    static const int ratios[] = {1, 2, 4};
    int n = 0;
    for (size_t t = 0; t < sizeof Ts / sizeof Ts[0]; t++)
        for (int hd = 64; hd <= 128; hd *= 2, n++) {
            const int H = 4, KVH = H / ratios[n % 3], B = 1 + n % 2;
            compare(B, Ts[t], H, KVH, hd);
        }
    compare(2, 1024, 8, 2, 128);  // a wider group at full length
    return t_finish("test_cuda_flash");
}
#endif
