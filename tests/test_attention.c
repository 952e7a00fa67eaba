// test_attention.c — flash attention against vanilla attention: outputs and
// all gradients (dq, dk, dv) agree to a relative error of 1e-5 (fp32; error
// over max |vanilla|, dq, dk and dv taken together) over shapes chosen to be
// awkward for tiles of 64: T = 1, 63, 64, 65, 130, 200; T = 300 and 520 cross
// flash's 256-key blocks (so tiles on the diagonal are cut to the keys their
// rows see) in its two-pass and one-pass backward; GQA ratios 1, 2, 4;
// head dims 16, 32, 64, 128. Also: attention memory of flash is B·H·T floats and
// at T = 1024 at least 8× below vanilla's. (The finite-difference check of
// both backward passes is in test_ops.)
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "testutil.h"

static uint64_t seed = 99;

static float *rnd(size_t n, float lo, float hi) {
    float *x = malloc(n * sizeof(float));
    t_fill_uniform(x, n, &seed, lo, hi);
    return x;
}

static double err(const float *a, const float *b, size_t n, double *maxref) {
    double d = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(a[i])) return INFINITY;
        d = fmax(d, fabs((double)a[i] - b[i]));
        *maxref = fmax(*maxref, fabs((double)b[i]));
    }
    return d;
}

// Runs one kind: out, then dq, dk, dv for dout. CPU backend: device = host.
static void run(const slm_ops *op, slm_attention kind, const float *q, const float *k, const float *v,
                const float *dout, float *out, float *dq, float *dk, float *dv, int B, int T, int H, int KVH, int hd) {
    size_t saved_b, scratch_b;
    slm_attention_sizes(kind, B, T, H, hd, sizeof(float), &saved_b, &scratch_b);
    float *saved = malloc(saved_b + sizeof(float)), *scratch = malloc(scratch_b + sizeof(float));
    slm_attn_fwd_fn fwd = kind == SLM_ATTN_FLASH ? op->attention_flash_fwd : op->attention_vanilla_fwd;
    slm_attn_bwd_fn bwd = kind == SLM_ATTN_FLASH ? op->attention_flash_bwd : op->attention_vanilla_bwd;
    fwd(out, saved, scratch, q, k, v, B, T, H, KVH, hd);
    bwd(dq, dk, dv, scratch, dout, out, saved, q, k, v, B, T, H, KVH, hd);
    free(saved);
    free(scratch);
}

static void compare(const slm_ops *op, int B, int T, int H, int KVH, int hd) {
    size_t nq = (size_t)B * T * H * hd, nkv = (size_t)B * T * KVH * hd;
    float *q = rnd(nq, -2, 2), *k = rnd(nkv, -2, 2), *v = rnd(nkv, -1, 1), *dout = rnd(nq, -1, 1);
    float *o[2], *dq[2], *dk[2], *dv[2];
    for (int i = 0; i < 2; i++) {
        o[i] = malloc(nq * sizeof(float));
        dq[i] = malloc(nq * sizeof(float));
        dk[i] = malloc(nkv * sizeof(float));
        dv[i] = malloc(nkv * sizeof(float));
        run(op, i ? SLM_ATTN_FLASH : SLM_ATTN_VANILLA, q, k, v, dout, o[i], dq[i], dk[i], dv[i], B, T, H, KVH, hd);
    }
    double ref_o = 1e-30, ref_g = 1e-30;
    double e_o = err(o[1], o[0], nq, &ref_o) / ref_o;
    double d_g =
        fmax(err(dq[1], dq[0], nq, &ref_g), fmax(err(dk[1], dk[0], nkv, &ref_g), err(dv[1], dv[0], nkv, &ref_g)));
    double e_g = d_g / ref_g;
    t_check(e_o <= 1e-5 && e_g <= 1e-5,
            "flash = vanilla [B=%d T=%d H=%d KVH=%d hd=%d]: out %.1e, grads %.1e (tol 1e-5)", B, T, H, KVH, hd, e_o,
            e_g);
    for (int i = 0; i < 2; i++) free(o[i]), free(dq[i]), free(dk[i]), free(dv[i]);
    free(q), free(k), free(v), free(dout);
}

int main(void) {
    slm_backend *be = slm_backend_cpu();
    if (!be->ops->attention_flash_fwd) {
        t_check(0, "the CPU backend has flash attention");
        return t_finish("test_attention");
    }
    static const int shapes[][5] = {
        // B, T, H, KVH, hd
        {1, 1, 2, 1, 64},   {2, 63, 4, 4, 32},   {1, 64, 4, 2, 64}, {1, 65, 4, 1, 128}, {2, 130, 4, 2, 64},
        {1, 200, 8, 2, 32}, {1, 130, 2, 2, 128}, {1, 67, 4, 4, 64}, {1, 300, 2, 1, 32}, {2, 520, 4, 4, 16},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        compare(be->ops, shapes[i][0], shapes[i][1], shapes[i][2], shapes[i][3], shapes[i][4]);

    size_t sv, scv, sf, scf;
    slm_attention_sizes(SLM_ATTN_VANILLA, 8, 1024, 12, 64, sizeof(float), &sv, &scv);
    slm_attention_sizes(SLM_ATTN_FLASH, 8, 1024, 12, 64, sizeof(float), &sf, &scf);
    t_check(sf + scf == (size_t)8 * 12 * 1024 * sizeof(float),
            "flash keeps B·H·T floats of attention state (%zu bytes)", sf + scf);
    t_check((double)(sv + scv) / (sf + scf) >= 8.0, "at T = 1024, vanilla's attention memory is %.0fx flash's (>= 8)",
            (double)(sv + scv) / (sf + scf));
    slm_backend_destroy(be);
    return t_finish("test_attention");
}
