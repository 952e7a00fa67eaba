// test_model_grad.c — finite-difference check of the whole model's backward,
// then the same model's gradient in bf16 against it.
// A small LLaMA (2 layers, GQA 4/2 heads, odd sizes), weights N(0, 0.3) so
// gradients are far from zero, norms perturbed from 1. For every tensor, a few
// coordinates are checked by central differences (eps 1e-2 on the fp32 model)
// and the gradient along a random direction over all parameters is checked
// against the directional difference. Tolerance: |fd − g| ≤ 2e-2·max(|fd|,|g|) + 2e-4.
//
// bf16 (the CPU backend's bf16 ops: oneDNN's bf16 GEMMs, or their emulation on
// a CPU without bf16 instructions): the same weights as the fp32 master, the
// same batch. Finite differences of a bf16 loss would measure its rounding, so
// the bf16 gradient is checked against the fp32 gradient just checked:
//   each tensor: max|g_bf16 − g_fp32| / max|g_fp32| ≤ 2^-4
//   loss: |l_bf16 − l_fp32| ≤ 2^-6·l_fp32
//   the directional derivative: |g_bf16·d − fd| ≤ 2^-5·|fd|
// Why these: each bf16 rounding is 2^-8 relative (the compute copy of the
// weights, then every activation an op stores); a gradient passes through the
// forward's chain (norm, projection, RoPE, attention's scores and
// probabilities, SwiGLU) and the backward's, as long again, 2 layers deep:
// some 16 roundings in a row, which can line up, so 2^-4 of the largest
// element (the bound test_hf_reference puts on the CPU's and CUDA's bf16
// gradients against Hugging Face). The loss is a mean of log-softmaxes of
// logits 3 roundings from the last block, 2^-6; the directional derivative
// sums every gradient along a random direction, so the elements' errors
// partly cancel: 2^-5.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/llama.h"
#include "testutil.h"

enum { B = 2, T = 5 };

static const slm_model_config *config(int tied) {
    static slm_model_config c[2] = {{"gradcheck", 2, 16, 4, 2, 24, 11, 8, 10000.0f, 1e-5f, 0},
                                    {"gradcheck", 2, 16, 4, 2, 24, 11, 8, 10000.0f, 1e-5f, 1}};
    return &c[tied];
}

static double loss_at(slm_model *m, const int *tok, const int *tgt) {
    if (m->params_c != m->params) slm_model_refresh_compute(m);
    return slm_model_forward(m, tok, tgt, B, T, 0.0f);
}

// A model on be with fp32 master p0 (NULL: the test's weights, drawn from s) and activations; -1 on failure.
static int open_model(slm_model *m, slm_backend *be, int tied, const float *p0, uint64_t *s) {
    slm_err err;
    int ok =
        slm_model_init(m, config(tied), be, 1, &err) == 0 && slm_model_alloc_acts(m, B, T, SLM_ATTN_VANILLA, &err) == 0;
    t_check(ok, "%s model (%s) and activations allocated%s%s", slm_dtype_name(be->compute), tied ? "tied" : "untied",
            ok ? "" : ": ", ok ? "" : err.msg);
    if (!ok) return -1;
    float *p = m->params;  // CPU backend: device memory is host memory
    if (p0) {
        memcpy(p, p0, m->layout.total * sizeof(float));
    } else {
        for (int i = 0; i < m->layout.n_tensors; i++) {
            const slm_tensor *t = &m->layout.tensors[i];
            for (int j = 0; j < t->rows * t->cols; j++) {
                float u[2];
                t_fill_uniform(u, 2, s, -1, 1);
                p[t->offset + j] = t->cols == 1 ? 1.0f + 0.3f * u[0] : 0.5f * u[0];
            }
        }
    }
    slm_model_refresh_compute(m);
    return 0;
}

// The loss, and the gradient of the mean loss into g (malloc'd).
static double grads_of(slm_model *m, const int *tok, const int *tgt, float **g) {
    slm_model_zero_grads(m);
    double loss = slm_model_forward(m, tok, tgt, B, T, 1.0f / (B * T));
    slm_model_backward(m);
    *g = malloc(m->layout.total * sizeof(float));
    memcpy(*g, m->grads, m->layout.total * sizeof(float));
    return loss;
}

static const double EPS = 1e-2, RTOL = 2e-2, ATOL = 2e-4;

// Central differences at 4 coordinates of every tensor against g.
static void check_coordinates(slm_model *m, const float *g, const int *tok, const int *tgt, uint64_t *s, int tied) {
    float *p = m->params;
    int bad = 0, checked = 0;
    for (int i = 0; i < m->layout.n_tensors; i++) {
        const slm_tensor *t = &m->layout.tensors[i];
        int n = t->rows * t->cols, tensor_bad = 0;
        for (int k = 0; k < 4; k++) {
            size_t idx = t->offset + (size_t)(t_rand_u64(s) % (uint64_t)n);
            float orig = p[idx];
            p[idx] = orig + (float)EPS;
            double lp = loss_at(m, tok, tgt);
            p[idx] = orig - (float)EPS;
            double lm = loss_at(m, tok, tgt);
            p[idx] = orig;
            double fd = (lp - lm) / (2 * EPS), an = g[idx];
            if (fabs(fd - an) - RTOL * fmax(fabs(fd), fabs(an)) > ATOL) tensor_bad = 1;
            checked++;
        }
        if (tensor_bad) {
            bad++;
            printf("  mismatch in %s\n", t->name);
        }
    }
    t_check(!bad, "%s: %d coordinates over %d tensors match central differences (eps %.0e, rtol %.0e, atol %.0e)",
            tied ? "tied" : "untied", checked, m->layout.n_tensors, EPS, RTOL, ATOL);
}

// The loss's central difference along dir (step h) from the master p0.
static double directional_difference(slm_model *m, const float *p0, const float *dir, const int *tok, const int *tgt) {
    const double h = 1e-3;
    float *p = m->params;
    for (size_t i = 0; i < m->layout.total; i++) p[i] = p0[i] + (float)h * dir[i];
    double lp = loss_at(m, tok, tgt);
    for (size_t i = 0; i < m->layout.total; i++) p[i] = p0[i] - (float)h * dir[i];
    double lm = loss_at(m, tok, tgt);
    memcpy(p, p0, m->layout.total * sizeof(float));
    return (lp - lm) / (2 * h);
}

static double dot(const float *a, const float *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

// The bf16 model's loss and gradient at the fp32 master p0 against fp32's (loss, g, and fd along dir).
static void check_bf16(int tied, const float *p0, const int *tok, const int *tgt, double loss, const float *g,
                       const float *dir, double fd) {
    const char *name = tied ? "tied" : "untied";
    slm_backend *be = slm_backend_cpu_bf16();
    slm_model m;
    if (open_model(&m, be, tied, p0, NULL)) {
        slm_backend_destroy(be);
        return;
    }
    float *gb;
    double lb = grads_of(&m, tok, tgt, &gb), worst = 0;
    const char *worst_name = "";
    for (int i = 0; i < m.layout.n_tensors; i++) {
        const slm_tensor *t = &m.layout.tensors[i];
        double e = t_max_rel_err(gb + t->offset, g + t->offset, (size_t)t->rows * t->cols, 1e-30);
        if (e > worst) worst = e, worst_name = t->name;
    }
    t_check(worst <= 1.0 / 16, "%s, bf16 (%s): every tensor's gradient within 2^-4 of fp32's (worst %.2e, %s)", name,
            be->device, worst, worst_name);
    t_check(fabs(lb - loss) <= ldexp(loss, -6), "%s, bf16: loss %.6f vs fp32 %.6f (|diff| %.1e, tol 2^-6·loss)", name,
            lb, loss, fabs(lb - loss));
    double gd = dot(gb, dir, m.layout.total);
    t_check(fabs(gd - fd) <= ldexp(fabs(fd), -5),
            "%s, bf16: g·d %.6f vs fp32's directional difference %.6f (rel %.1e, tol 2^-5)", name, gd, fd,
            fabs(gd - fd) / fabs(fd));
    free(gb);
    slm_model_free(&m);
    slm_backend_destroy(be);
}

static void run(int tied) {
    slm_backend *be = slm_backend_cpu();
    slm_model m;
    uint64_t s = 42 + tied;
    if (open_model(&m, be, tied, NULL, &s)) {
        slm_backend_destroy(be);
        return;
    }
    int tok[B * T], tgt[B * T];
    for (int i = 0; i < B * T; i++) tok[i] = (int)(t_rand_u64(&s) % 11), tgt[i] = (int)(t_rand_u64(&s) % 11);
    float *g;
    double loss = grads_of(&m, tok, tgt, &g);
    check_coordinates(&m, g, tok, tgt, &s, tied);

    // directional derivative along a random direction over every parameter
    size_t n = m.layout.total;
    float *dir = malloc(n * sizeof(float)), *p0 = malloc(n * sizeof(float));
    t_fill_uniform(dir, n, &s, -1, 1);
    memcpy(p0, m.params, n * sizeof(float));
    double fd = directional_difference(&m, p0, dir, tok, tgt), gd = dot(g, dir, n);
    t_check(fabs(fd - gd) <= RTOL * fabs(gd) + ATOL, "%s: directional derivative %.6f vs g·d %.6f",
            tied ? "tied" : "untied", fd, gd);
    check_bf16(tied, p0, tok, tgt, loss, g, dir, fd);
    free(dir);
    free(p0);
    free(g);
    slm_model_free(&m);
    slm_backend_destroy(be);
}

int main(void) {
    run(0);
    run(1);
    return t_finish("test_model_grad");
}
