// test_bf16_ops.c — every op of each bf16 backend against the CPU backend in
// fp32 on the same random inputs, forward and backward, at several shapes
// (odd sizes included), and determinism: the same op run twice gives bitwise
// the same output. The bf16 backends: the CPU's (slm_backend_cpu_bf16,
// always: oneDNN's bf16 GEMMs, or their emulation on a CPU without bf16
// instructions, so the checks run on any machine) and CUDA's (where the
// driver sees a GPU; skipped without one).
//
// Inputs are drawn in fp32 and rounded to bf16 on the host first, so both
// backends see the very same values; the CPU's fp32 result is the reference.
// An error is measured against a bound per element:
//   |bf16 − fp32| ≤ rel·|fp32| + norm·max|fp32|
// and each check states its rel and norm with the reason:
//   - one bf16 rounding of an output: 2^-8 relative (unit roundoff), checked at
//     rel = 2^-7 (fp32 arithmetic in a different order, exp vs the CPU's fast
//     exp, and FMA contraction stay far below 2^-8), with norm = 2^-12 for the
//     elements that cancel to near zero;
//   - GEMMs: the bf16 output rounding (2^-7, as above) plus fp32 accumulation
//     of K products, sqrt(K)·2^-16 of max|fp32| (a random walk of K roundings of
//     2^-24, with 2^8 of room for the tensor cores' or oneDNN's summation order);
//   - fp32 outputs of fp32 sums (rmsnorm's dw, rstd, the losses): 1e-5 and
//     sqrt(K)·2^-16 as for GEMMs;
//   - attention, three bf16 roundings in a chain (scores, probabilities,
//     output), the scores' error amplified by exp: norm 2^-5 forward, and 2^-4
//     backward (dP and dS rounded too, and dP − rowsum cancels); flash rounds
//     less (its scores stay fp32) and is held to the same bounds.
// Flash's dQ on CUDA sums its key tiles with fp32 atomics (attention_flash.cu),
// so there dq is checked against the CPU but not for bitwise repeats; the
// CPU's bf16 flash sums in a fixed order and its dq repeats bitwise too.
// The host part (always run): the bf16 rounding helper every kernel uses
// (backend/bf16.h) on values with known answers.
// label: gpu
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "backend/bf16.h"
#include "testutil.h"

static slm_backend *dev, *cpu;  // the bf16 backend under test, the fp32 reference
static const char *dev_name;    // "cpu bf16", "cuda": each check's first words
static int flash_dq_repeats;    // 1 where flash's dq is bitwise the same when run twice
static uint64_t rng = 20261122;

// ---- host: the rounding helper ---------------------------------------------

static float from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static void check_rounding(void) {
    struct {
        uint32_t f32;
        uint16_t bf16;
        const char *what;
    } cases[] = {
        {0x3f800000u, 0x3f80, "1.0 exact"},
        {0x3f808000u, 0x3f80, "1 + 2^-8 (a tie) rounds to even, down"},
        {0x3f818000u, 0x3f82, "1 + 3·2^-8 (a tie) rounds to even, up"},
        {0x3f808001u, 0x3f81, "just above a tie rounds up"},
        {0x3f807fffu, 0x3f80, "just below a tie rounds down"},
        {0xbf818000u, 0xbf82, "negative tie to even"},
        {0x7f7fffffu, 0x7f80, "FLT_MAX rounds to +inf"},
        {0x7f800000u, 0x7f80, "+inf stays"},
        {0xff800000u, 0xff80, "-inf stays"},
        {0x00000001u, 0x0000, "smallest subnormal rounds to 0"},
        {0x80000000u, 0x8000, "-0 keeps its sign"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint16_t got = slm_bf16_from_f32(from_bits(cases[i].f32));
        t_check(got == cases[i].bf16, "bf16 rounding: %s (0x%08x -> 0x%04x, want 0x%04x)", cases[i].what, cases[i].f32,
                got, cases[i].bf16);
    }
    uint16_t nan = slm_bf16_from_f32(from_bits(0x7f800001u));  // a NaN whose payload is all in the low half
    t_check(isnan(slm_f32_from_bf16(nan)), "bf16 rounding: a NaN with a low payload stays NaN (0x%04x)", nan);
    int exact = 1;
    for (uint32_t h = 0; h < 0x10000u; h++)
        if (!isnan(slm_f32_from_bf16((uint16_t)h)) && slm_bf16_from_f32(slm_f32_from_bf16((uint16_t)h)) != h) exact = 0;
    t_check(exact, "bf16 -> fp32 -> bf16 is the identity on all 65536 non-NaN patterns");
    int same = 1;  // the host's conversion (core/dtype.h) is the kernels' bit for bit
    for (uint32_t h = 0; h < 0x10000u; h++) {
        float a = slm_bf16_to_f32((uint16_t)h), b = slm_f32_from_bf16((uint16_t)h);
        if (memcmp(&a, &b, sizeof a)) same = 0;
    }
    t_check(same, "slm_bf16_to_f32 widens all 65536 patterns as the kernels do, NaNs included");
}

// ---- buffers ---------------------------------------------------------------

enum { MAX_BUFS = 64 };
static void *hosts[MAX_BUFS], *devs[MAX_BUFS];
static int n_hosts, n_devs;

static void *hmem(size_t bytes) {
    void *p = calloc(1, bytes ? bytes : 1);
    if (!p || n_hosts == MAX_BUFS) {
        fprintf(stderr, "test_bf16_ops: out of host buffers\n");
        exit(1);
    }
    return hosts[n_hosts++] = p;
}
static float *hf(size_t n) { return hmem(n * sizeof(float)); }

static void *dmem(size_t bytes) {
    void *p = slm_alloc(dev, bytes ? bytes : 1, SLM_MEM_WORKSPACE);
    if (!p || n_devs == MAX_BUFS) {
        fprintf(stderr, "test_bf16_ops: device allocation of %zu bytes failed\n", bytes);
        exit(1);
    }
    return devs[n_devs++] = p;
}

static void free_all(void) {
    while (n_hosts) free(hosts[--n_hosts]);
    while (n_devs) slm_free(dev, devs[--n_devs]);
}

// Random values in [lo, hi), rounded to bf16 so both backends read the same numbers.
static float *rnd(size_t n, float lo, float hi) {
    float *h = hf(n);
    t_fill_uniform(h, n, &rng, lo, hi);
    for (size_t i = 0; i < n; i++) h[i] = slm_f32_from_bf16(slm_bf16_from_f32(h[i]));
    return h;
}
static float *dup(const float *h, size_t n) { return memcpy(hf(n), h, n * sizeof(float)); }

// Device bf16 copy of h (whose values are bf16 already).
static void *up16(const float *h, size_t n) {
    uint16_t *b = malloc((n ? n : 1) * sizeof *b);
    for (size_t i = 0; i < n; i++) b[i] = slm_bf16_from_f32(h[i]);
    void *d = dmem(n * 2);
    dev->to_device(d, b, n * 2);
    free(b);
    return d;
}
static float *up32(const float *h, size_t n) {
    float *d = dmem(n * sizeof(float));
    dev->to_device(d, h, n * sizeof(float));
    return d;
}
static float *down16(const void *d, size_t n) {
    uint16_t *b = malloc((n ? n : 1) * sizeof *b);
    dev->sync();
    dev->to_host(b, d, n * 2);
    float *h = hf(n);
    for (size_t i = 0; i < n; i++) h[i] = slm_f32_from_bf16(b[i]);
    free(b);
    return h;
}
static float *down32(const float *d, size_t n) {
    float *h = hf(n);
    dev->sync();
    dev->to_host(h, d, n * sizeof(float));
    return h;
}

// ---- comparisons -----------------------------------------------------------

// t_check with the backend under test named first.
static void dcheck(int ok, const char *fmt, ...) {
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    t_check(ok, "%s %s", dev_name, what);
}

// Checks |got − ref| ≤ rel·|ref| + norm·max|ref| everywhere; prints the worst ratio.
static void near(const char *what, const float *got, const float *ref, size_t n, double rel, double norm) {
    double mx = 0, worst = 0, diff_at = 0;
    for (size_t i = 0; i < n; i++) mx = fmax(mx, fabs(ref[i]));
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - ref[i]), bound = rel * fabs(ref[i]) + norm * mx + 1e-30;
        if (!isfinite(got[i])) d = INFINITY;
        if (d / bound > worst) worst = d / bound, diff_at = d;
    }
    dcheck(worst <= 1.0, "%s: worst |bf16-fp32| %.3g is %.2f of its bound (rel %.3g, norm %.3g of max %.3g)", what,
           diff_at, worst, rel, norm, mx);
}

static void same_bits(const char *what, const void *a, const void *b, size_t bytes) {
    dcheck(memcmp(a, b, bytes) == 0, "%s: bitwise identical", what);
}

static double gemm_norm(int K) { return sqrt((double)K) * ldexp(1.0, -16); }
static const double REL16 = 1.0 / 128, NORM16 = 1.0 / 4096;  // one bf16 rounding (2^-7, 2^-12)

// ---- ops ---------------------------------------------------------------------

static void test_embedding(int N, int C, int V) {
    float *wte = rnd((size_t)V * C, -1, 1), *dout = rnd((size_t)N * C, -1, 1), *dw0 = rnd((size_t)V * C, -1, 1);
    int *tok = hmem((size_t)N * sizeof(int));
    for (int n = 0; n < N; n++) tok[n] = (int)(t_rand_u64(&rng) % (uint64_t)V);  // V < N: tokens repeat
    float *out = hf((size_t)N * C), *dw = dup(dw0, (size_t)V * C);
    cpu->ops->embedding_fwd(out, wte, tok, N, C);
    cpu->ops->embedding_bwd(dw, dout, tok, N, C);
    int *dtok = dmem((size_t)N * sizeof(int));
    dev->to_device(dtok, tok, (size_t)N * sizeof(int));
    void *gout = dmem((size_t)N * C * 2);
    float *gdw = up32(dw0, (size_t)V * C), *gdw2 = up32(dw0, (size_t)V * C);
    dev->ops->embedding_fwd(gout, up16(wte, (size_t)V * C), dtok, N, C);
    void *gdout = up16(dout, (size_t)N * C);
    dev->ops->embedding_bwd(gdw, gdout, dtok, N, C);
    dev->ops->embedding_bwd(gdw2, gdout, dtok, N, C);
    char what[96];
    snprintf(what, sizeof what, "embedding fwd N=%d C=%d V=%d (a copy: exact)", N, C, V);
    near(what, down16(gout, (size_t)N * C), out, (size_t)N * C, 0, 0);
    // the same fp32 additions in the same order (position order per token) as the CPU: exact
    float *g1 = down32(gdw, (size_t)V * C), *g2 = down32(gdw2, (size_t)V * C);
    snprintf(what, sizeof what, "embedding bwd N=%d C=%d V=%d (+=, same order of adds as the CPU)", N, C, V);
    same_bits(what, g1, dw, (size_t)V * C * sizeof(float));
    snprintf(what, sizeof what, "embedding bwd N=%d C=%d run twice", N, C);
    same_bits(what, g1, g2, (size_t)V * C * sizeof(float));
    free_all();
}

static void test_rmsnorm(int N, int C) {
    const float eps = 1e-5f;
    float *x = rnd((size_t)N * C, -2, 2), *w = rnd((size_t)C, 0.5f, 1.5f), *dout = rnd((size_t)N * C, -1, 1);
    float *dx0 = rnd((size_t)N * C, -1, 1), *dw0 = rnd((size_t)C, -1, 1);
    float *out = hf((size_t)N * C), *rstd = hf((size_t)N), *dx = dup(dx0, (size_t)N * C), *dw = dup(dw0, (size_t)C);
    cpu->ops->rmsnorm_fwd(out, rstd, x, w, N, C, eps);
    cpu->ops->rmsnorm_bwd(dx, dw, dout, x, w, rstd, N, C);
    void *gx = up16(x, (size_t)N * C), *gw = up16(w, (size_t)C), *gout = dmem((size_t)N * C * 2);
    void *gdout = up16(dout, (size_t)N * C), *gdx = up16(dx0, (size_t)N * C);
    float *grstd = dmem((size_t)N * sizeof(float)), *gdw = up32(dw0, (size_t)C), *gdw2 = up32(dw0, (size_t)C);
    dev->ops->rmsnorm_fwd(gout, grstd, gx, gw, N, C, eps);
    dev->ops->rmsnorm_bwd(gdx, gdw, gdout, gx, gw, grstd, N, C);
    void *gdx2 = up16(dx0, (size_t)N * C);
    dev->ops->rmsnorm_bwd(gdx2, gdw2, gdout, gx, gw, grstd, N, C);
    char what[96];
    snprintf(what, sizeof what, "rmsnorm fwd out N=%d C=%d", N, C);
    near(what, down16(gout, (size_t)N * C), out, (size_t)N * C, REL16, NORM16);
    snprintf(what, sizeof what, "rmsnorm fwd rstd N=%d C=%d (fp32 sum of C squares)", N, C);
    near(what, down32(grstd, (size_t)N), rstd, (size_t)N, 1e-5, gemm_norm(C));
    // dx += … is rounded to bf16 once; the sum over c behind it is fp32
    snprintf(what, sizeof what, "rmsnorm bwd dx (+=) N=%d C=%d", N, C);
    near(what, down16(gdx, (size_t)N * C), dx, (size_t)N * C, REL16, NORM16 + gemm_norm(C));
    snprintf(what, sizeof what, "rmsnorm bwd dw (+=, fp32 sum over N=%d rows) C=%d", N, C);
    float *g1 = down32(gdw, (size_t)C);
    near(what, g1, dw, (size_t)C, 1e-5, gemm_norm(N));
    snprintf(what, sizeof what, "rmsnorm bwd N=%d C=%d run twice (dx, dw)", N, C);
    dcheck(!memcmp(down16(gdx, (size_t)N * C), down16(gdx2, (size_t)N * C), (size_t)N * C * sizeof(float)) &&
               !memcmp(g1, down32(gdw2, (size_t)C), (size_t)C * sizeof(float)),
           "%s: bitwise identical", what);
    free_all();
}

static void test_matmul(int N, int IC, int OC, int accumulate) {
    float *in = rnd((size_t)N * IC, -1, 1), *w = rnd((size_t)OC * IC, -1, 1), *dout = rnd((size_t)N * OC, -1, 1);
    float *out0 = rnd((size_t)N * OC, -1, 1), *din0 = rnd((size_t)N * IC, -1, 1), *dw0 = rnd((size_t)OC * IC, -1, 1);
    float *out = dup(out0, (size_t)N * OC), *din = dup(din0, (size_t)N * IC), *dw = dup(dw0, (size_t)OC * IC);
    cpu->ops->matmul_fwd(out, in, w, N, IC, OC, accumulate);
    cpu->ops->matmul_bwd(din, dw, dout, in, w, N, IC, OC, accumulate);
    void *gin = up16(in, (size_t)N * IC), *gw = up16(w, (size_t)OC * IC), *gdout = up16(dout, (size_t)N * OC);
    void *gout = up16(out0, (size_t)N * OC), *gdin = up16(din0, (size_t)N * IC);
    float *gdw = up32(dw0, (size_t)OC * IC), *gdw2 = up32(dw0, (size_t)OC * IC);
    dev->ops->matmul_fwd(gout, gin, gw, N, IC, OC, accumulate);
    dev->ops->matmul_bwd(gdin, gdw, gdout, gin, gw, N, IC, OC, accumulate);
    dev->ops->matmul_bwd(NULL, gdw2, gdout, gin, gw, N, IC, OC, accumulate);  // din NULL: dw alone
    char what[128];
    snprintf(what, sizeof what, "matmul fwd N=%d IC=%d OC=%d %s", N, IC, OC, accumulate ? "(+=)" : "(=)");
    near(what, down16(gout, (size_t)N * OC), out, (size_t)N * OC, REL16, NORM16 + gemm_norm(IC));
    snprintf(what, sizeof what, "matmul bwd din N=%d IC=%d OC=%d %s", N, IC, OC, accumulate ? "(+=)" : "(=)");
    near(what, down16(gdin, (size_t)N * IC), din, (size_t)N * IC, REL16, NORM16 + gemm_norm(OC));
    snprintf(what, sizeof what, "matmul bwd dw (+=, fp32) N=%d IC=%d OC=%d", N, IC, OC);
    float *g1 = down32(gdw, (size_t)OC * IC);
    near(what, g1, dw, (size_t)OC * IC, 1e-5, gemm_norm(N));
    snprintf(what, sizeof what, "matmul bwd dw N=%d IC=%d OC=%d with din NULL, and run twice", N, IC, OC);
    same_bits(what, g1, down32(gdw2, (size_t)OC * IC), (size_t)OC * IC * sizeof(float));
    free_all();
}

static void test_rope(int B, int T, int nh, int hd) {
    const int half = hd / 2;
    size_t n = (size_t)B * T * nh * hd;
    float *cs = hf((size_t)T * half), *sn = hf((size_t)T * half), *x = rnd(n, -1, 1);
    for (int t = 0; t < T; t++)
        for (int i = 0; i < half; i++) {
            double a = t * pow(10000.0, -2.0 * i / hd);
            cs[(size_t)t * half + i] = (float)cos(a);
            sn[(size_t)t * half + i] = (float)sin(a);
        }
    float *f = dup(x, n), *b = dup(x, n);
    cpu->ops->rope_fwd(f, cs, sn, B, T, nh, hd);
    cpu->ops->rope_bwd(b, cs, sn, B, T, nh, hd);
    float *gcs = up32(cs, (size_t)T * half), *gsn = up32(sn, (size_t)T * half);
    void *gf = up16(x, n), *gb = up16(x, n);
    dev->ops->rope_fwd(gf, gcs, gsn, B, T, nh, hd);
    dev->ops->rope_bwd(gb, gcs, gsn, B, T, nh, hd);
    char what[96];
    snprintf(what, sizeof what, "rope fwd B=%d T=%d nh=%d hd=%d", B, T, nh, hd);
    near(what, down16(gf, n), f, n, REL16, NORM16);
    snprintf(what, sizeof what, "rope bwd B=%d T=%d nh=%d hd=%d", B, T, nh, hd);
    near(what, down16(gb, n), b, n, REL16, NORM16);
    free_all();
}

// Vanilla or flash attention through the op table; saved and scratch sized by slm_attention_sizes.
// Run twice, out, saved, dk and dv repeat bitwise, and dq too except flash's where !flash_dq_repeats.
static void test_attention(slm_attention kind, int B, int T, int H, int KVH, int hd) {
    size_t nq = (size_t)B * T * H * hd, nkv = (size_t)B * T * KVH * hd, saved_c, scratch_c, saved_g, scratch_g;
    slm_attention_sizes(kind, B, T, H, hd, sizeof(float), &saved_c, &scratch_c);
    slm_attention_sizes(kind, B, T, H, hd, 2, &saved_g, &scratch_g);
    const slm_attn_fwd_fn cf = kind == SLM_ATTN_FLASH ? cpu->ops->attention_flash_fwd : cpu->ops->attention_vanilla_fwd;
    const slm_attn_bwd_fn cb = kind == SLM_ATTN_FLASH ? cpu->ops->attention_flash_bwd : cpu->ops->attention_vanilla_bwd;
    const slm_attn_fwd_fn gf = kind == SLM_ATTN_FLASH ? dev->ops->attention_flash_fwd : dev->ops->attention_vanilla_fwd;
    const slm_attn_bwd_fn gb = kind == SLM_ATTN_FLASH ? dev->ops->attention_flash_bwd : dev->ops->attention_vanilla_bwd;
    float *q = rnd(nq, -1, 1), *k = rnd(nkv, -1, 1), *v = rnd(nkv, -1, 1), *dout = rnd(nq, -1, 1);
    float *out = hf(nq), *dq = hf(nq), *dk = hf(nkv), *dv = hf(nkv);
    void *saved = hmem(saved_c), *scratch = hmem(scratch_c);
    cf(out, saved, scratch, q, k, v, B, T, H, KVH, hd);
    cb(dq, dk, dv, scratch, dout, out, saved, q, k, v, B, T, H, KVH, hd);
    void *gq = up16(q, nq), *gk = up16(k, nkv), *gv = up16(v, nkv), *gdout = up16(dout, nq);
    void *gout = dmem(nq * 2), *gsaved = dmem(saved_g), *gscratch = dmem(scratch_g);
    void *gdq = dmem(nq * 2), *gdk = dmem(nkv * 2), *gdv = dmem(nkv * 2);
    gf(gout, gsaved, gscratch, gq, gk, gv, B, T, H, KVH, hd);
    gb(gdq, gdk, gdv, gscratch, gdout, gout, gsaved, gq, gk, gv, B, T, H, KVH, hd);
    const char *name = slm_attention_names[kind];
    char what[128];
    snprintf(what, sizeof what, "attention %s fwd B=%d T=%d H=%d KVH=%d hd=%d", name, B, T, H, KVH, hd);
    float *o1 = down16(gout, nq), *s1;
    near(what, o1, out, nq, 0, 1.0 / 32);
    size_t n_saved = kind == SLM_ATTN_FLASH ? saved_g / sizeof(float) : saved_g / 2;
    if (kind == SLM_ATTN_FLASH) {  // log-sum-exp of fp32 scores of bf16 q, k: fp32 sums of hd products
        snprintf(what, sizeof what, "attention flash log-sum-exp B=%d T=%d H=%d KVH=%d", B, T, H, KVH);
        near(what, s1 = down32(gsaved, n_saved), saved, n_saved, 1e-5, gemm_norm(hd));
    } else {
        snprintf(what, sizeof what, "attention vanilla probabilities B=%d T=%d H=%d KVH=%d", B, T, H, KVH);
        near(what, s1 = down16(gsaved, n_saved), saved, n_saved, 0, 1.0 / 32);
    }
    const char *names[3] = {"dq", "dk", "dv"};
    void *g[3] = {gdq, gdk, gdv};
    float *c[3] = {dq, dk, dv}, *first[3];
    size_t len[3] = {nq, nkv, nkv};
    for (int i = 0; i < 3; i++) {
        snprintf(what, sizeof what, "attention %s bwd %s B=%d T=%d H=%d KVH=%d hd=%d", name, names[i], B, T, H, KVH,
                 hd);
        near(what, first[i] = down16(g[i], len[i]), c[i], len[i], 0, 1.0 / 16);
    }
    // run twice: outputs bitwise the same
    void *gout2 = dmem(nq * 2);
    gf(gout2, gsaved, gscratch, gq, gk, gv, B, T, H, KVH, hd);
    gb(gdq, gdk, gdv, gscratch, gdout, gout2, gsaved, gq, gk, gv, B, T, H, KVH, hd);
    int same = !memcmp(down16(gout2, nq), o1, nq * sizeof(float));
    float *s2 = kind == SLM_ATTN_FLASH ? down32(gsaved, n_saved) : down16(gsaved, n_saved);
    same = same && !memcmp(s1, s2, n_saved * sizeof(float));
    const int dq_too = kind != SLM_ATTN_FLASH || flash_dq_repeats;
    for (int i = !dq_too; i < 3; i++) same = same && !memcmp(down16(g[i], len[i]), first[i], len[i] * sizeof(float));
    dcheck(same, "attention %s B=%d T=%d H=%d KVH=%d run twice: out, saved, %sdk, dv bitwise identical", name, B, T, H,
           KVH, dq_too ? "dq, " : "");
    free_all();
}

static void test_swiglu(size_t n) {
    float *g = rnd(n, -4, 4), *u = rnd(n, -2, 2), *dh = rnd(n, -1, 1);
    float *h = hf(n), *dg = hf(n), *du = hf(n);
    cpu->ops->swiglu_fwd(h, g, u, n);
    cpu->ops->swiglu_bwd(dg, du, dh, g, u, n);
    void *gg = up16(g, n), *gu = up16(u, n), *gdh = up16(dh, n);
    void *gh = dmem(n * 2), *gdg = dmem(n * 2), *gdu = dmem(n * 2);
    dev->ops->swiglu_fwd(gh, gg, gu, n);
    dev->ops->swiglu_bwd(gdg, gdu, gdh, gg, gu, n);
    char what[64];
    snprintf(what, sizeof what, "swiglu fwd n=%zu", n);
    near(what, down16(gh, n), h, n, REL16, NORM16);
    snprintf(what, sizeof what, "swiglu bwd dg n=%zu", n);
    near(what, down16(gdg, n), dg, n, REL16, NORM16);
    snprintf(what, sizeof what, "swiglu bwd du n=%zu", n);
    near(what, down16(gdu, n), du, n, REL16, NORM16);
    free_all();
}

static void test_xent(int N, int V) {
    const float dscale = 1.0f / N;
    float *z = rnd((size_t)N * V, -4, 4), *zc = dup(z, (size_t)N * V), *loss = hf((size_t)N);
    int *tgt = hmem((size_t)N * sizeof(int));
    for (int n = 0; n < N; n++) tgt[n] = (int)(t_rand_u64(&rng) % (uint64_t)V);
    cpu->ops->xent_fwd_bwd(loss, zc, tgt, N, V, dscale);
    int *gt = dmem((size_t)N * sizeof(int));
    dev->to_device(gt, tgt, (size_t)N * sizeof(int));
    void *gz = up16(z, (size_t)N * V), *gz2 = up16(z, (size_t)N * V);
    float *gl = dmem((size_t)N * sizeof(float)), *gl2 = dmem((size_t)N * sizeof(float));
    dev->ops->xent_fwd_bwd(gl, gz, gt, N, V, dscale);
    dev->ops->xent_fwd_bwd(gl2, gz2, gt, N, V, 0.0f);  // dscale 0: losses only, logits untouched
    char what[96];
    snprintf(what, sizeof what, "xent losses N=%d V=%d (fp32 sum of V exps)", N, V);
    float *l1 = down32(gl, (size_t)N);
    near(what, l1, loss, (size_t)N, 1e-5, gemm_norm(V));
    snprintf(what, sizeof what, "xent gradient N=%d V=%d", N, V);
    near(what, down16(gz, (size_t)N * V), zc, (size_t)N * V, REL16, NORM16);
    snprintf(what, sizeof what, "xent N=%d V=%d with dscale 0: same losses, logits untouched", N, V);
    dcheck(!memcmp(l1, down32(gl2, (size_t)N), (size_t)N * sizeof(float)) &&
               !memcmp(down16(gz2, (size_t)N * V), z, (size_t)N * V * sizeof(float)),
           "%s", what);
    free_all();
}

static void test_optim(size_t n) {
    float *p = rnd(n, -1, 1), *g = rnd(n, -1, 1), *m = rnd(n, -0.1f, 0.1f), *v = rnd(n, 0, 0.01f);
    float *pc = dup(p, n), *mc = dup(m, n), *vc = dup(v, n);
    float *gp = up32(p, n), *gg = up32(g, n), *gm = up32(m, n), *gv = up32(v, n);
    void *gpc = dmem(n * 2);
    const float lr = 1e-3f, b1 = 0.9f, b2 = 0.95f, eps = 1e-8f, wd = 0.1f;
    for (int t = 1; t <= 3; t++) {
        cpu->ops->adamw(pc, g, mc, vc, NULL, n, lr, b1, b2, eps, wd, t);
        dev->ops->adamw(gp, gg, gm, gv, gpc, n, lr, b1, b2, eps, wd, t);
    }
    char what[96];
    // fp32 on both sides; the GPU contracts a·b + c into FMAs, the CPU may not: a few ulps of |p|
    // (the CPU's bf16 backend runs the fp32 op's own code: exact)
    snprintf(what, sizeof what, "adamw p after 3 steps n=%zu (fp32, FMA contraction)", n);
    float *p1 = down32(gp, n);
    near(what, p1, pc, n, 4.0 / 16777216, 4.0 / 16777216);
    snprintf(what, sizeof what, "adamw m n=%zu", n);
    near(what, down32(gm, n), mc, n, 4.0 / 16777216, 4.0 / 16777216);
    snprintf(what, sizeof what, "adamw v n=%zu", n);
    near(what, down32(gv, n), vc, n, 4.0 / 16777216, 4.0 / 16777216);
    float *pb = down16(gpc, n);
    int exact = 1;
    for (size_t i = 0; i < n; i++) exact = exact && pb[i] == slm_f32_from_bf16(slm_bf16_from_f32(p1[i]));
    dcheck(exact, "adamw n=%zu: the bf16 copy is p rounded to nearest even, bitwise", n);

    double ss = cpu->ops->sumsq(g, n), gss = dev->ops->sumsq(gg, n), gss2 = dev->ops->sumsq(gg, n);
    dcheck(fabs(gss - ss) <= 1e-12 * ss, "sumsq n=%zu: %.17g vs fp32 %.17g (fp64 sums, rel 1e-12)", n, gss, ss);
    dcheck(gss == gss2, "sumsq n=%zu run twice: bitwise identical", n);

    float *x = rnd(n, -1, 1), *y = rnd(n, -1, 1), *xs = dup(x, n), *ya = dup(y, n);
    float *gx = up32(x, n), *gy = up32(y, n);
    cpu->ops->scale(xs, n, 0.37f);
    dev->ops->scale(gx, n, 0.37f);
    same_bits("scale (one fp32 multiply: exact)", down32(gx, n), xs, n * sizeof(float));
    cpu->ops->axpy(ya, x, n, -1.7f);
    dev->ops->axpy(gy, up32(x, n), n, -1.7f);
    near("axpy (fp32; an FMA or not: 1 ulp)", down32(gy, n), ya, n, 2.0 / 16777216, 2.0 / 16777216);

    float *raw = hf(n);
    t_fill_uniform(raw, n, &rng, -100, 100);  // not bf16 already: the cast rounds
    void *gc = dmem(n * 2);
    dev->ops->to_compute(gc, up32(raw, n), n);
    float *c = down16(gc, n);
    exact = 1;
    for (size_t i = 0; i < n; i++) exact = exact && c[i] == slm_f32_from_bf16(slm_bf16_from_f32(raw[i]));
    dcheck(exact, "to_compute n=%zu: bitwise the host's round to nearest even", n);
    free_all();
}

// Every op's checks on the bf16 backend `be`, named `name`, then destroyed.
static void check_backend(slm_backend *be, const char *name, int dq_repeats) {
    dev = be, dev_name = name, flash_dq_repeats = dq_repeats;
    dcheck(dev->compute == SLM_BF16, "computes in bf16 (%s)", dev->device);
    test_embedding(64, 37, 11);
    test_embedding(300, 256, 50);
    test_rmsnorm(5, 37);
    test_rmsnorm(300, 768);
    test_matmul(5, 37, 19, 0);
    test_matmul(5, 37, 19, 1);
    test_matmul(64, 128, 96, 0);
    test_matmul(130, 256, 200, 1);
    test_rope(2, 7, 3, 16);
    test_rope(1, 33, 4, 64);
    for (int kvh = 4; kvh >= 1; kvh /= 2) test_attention(SLM_ATTN_VANILLA, 2, 13, 4, kvh, 16);
    test_attention(SLM_ATTN_VANILLA, 1, 64, 4, 2, 64);
    for (int kvh = 4; kvh >= 1; kvh /= 2) test_attention(SLM_ATTN_FLASH, 2, 70, 4, kvh, 64);  // T not a tile multiple
    test_attention(SLM_ATTN_FLASH, 1, 129, 2, 1, 128);
    // T = 300 crosses the CPU's 256-key blocks, grouped heads, in its one-pass
    // backward (B·KVH = 4, at least twice 2 threads) and its two-pass one
    test_attention(SLM_ATTN_FLASH, 2, 300, 4, 2, 64);
    test_attention(SLM_ATTN_FLASH, 1, 300, 4, 1, 64);
    test_swiglu(37);
    test_swiglu(100003);
    test_xent(5, 37);
    test_xent(16, 1000);
    test_optim(37);
    test_optim(100003);
    slm_backend_destroy(dev);
}

int main(void) {
    check_rounding();
    cpu = slm_backend_cpu();
    check_backend(slm_backend_cpu_bf16(), "cpu bf16", 1);
    if (slm_cuda_devices() == 0) {
        printf("cuda: skipped: no GPU (the host and cpu bf16 checks above ran)\n");
    } else {
        slm_err err;
        slm_backend *gpu = slm_backend_open(SLM_BACKEND_CUDA, SLM_BF16, &err);
        t_check(gpu != NULL, "cuda: the backend opens%s%s", gpu ? "" : ": ", gpu ? "" : err.msg);
        if (gpu) check_backend(gpu, "cuda", 0);
    }
    slm_backend_destroy(cpu);
    return t_finish("test_bf16_ops");
}
