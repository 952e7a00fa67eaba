// test_model_grad.c — finite-difference check of the whole model's backward.
// A small LLaMA (2 layers, GQA 4/2 heads, odd sizes), weights N(0, 0.3) so
// gradients are far from zero, norms perturbed from 1. For every tensor, a few
// coordinates are checked by central differences (eps 1e-2 on the fp32 model)
// and the gradient along a random direction over all parameters is checked
// against the directional difference. Tolerance: |fd − g| ≤ 2e-2·max(|fd|,|g|) + 2e-4.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/llama.h"
#include "testutil.h"

enum { B = 2, T = 5 };

static double loss_at(slm_model *m, const int *tok, const int *tgt) {
    return slm_model_forward(m, tok, tgt, B, T, 0.0f);
}

static void run(int tied) {
    slm_model_config c = {"gradcheck", 2, 16, 4, 2, 24, 11, 8, 10000.0f, 1e-5f, tied};
    slm_backend *be = slm_backend_cpu();
    slm_model m;
    slm_err err;
    t_check(slm_model_init(&m, &c, be, 1, &err) == 0, "model init (%s)", tied ? "tied" : "untied");
    t_check(slm_model_alloc_acts(&m, B, T, SLM_ATTN_VANILLA, &err) == 0, "activations allocated");
    uint64_t s = 42 + tied;
    float *p = m.params;  // CPU backend: device memory is host memory
    for (int i = 0; i < m.layout.n_tensors; i++) {
        const slm_tensor *t = &m.layout.tensors[i];
        for (int j = 0; j < t->rows * t->cols; j++) {
            float u[2];
            t_fill_uniform(u, 2, &s, -1, 1);
            p[t->offset + j] = t->cols == 1 ? 1.0f + 0.3f * u[0] : 0.5f * u[0];
        }
    }
    int tok[B * T], tgt[B * T];
    for (int i = 0; i < B * T; i++) tok[i] = (int)(t_rand_u64(&s) % 11), tgt[i] = (int)(t_rand_u64(&s) % 11);

    slm_model_zero_grads(&m);
    slm_model_forward(&m, tok, tgt, B, T, 1.0f / (B * T));
    slm_model_backward(&m);
    float *g = malloc(m.layout.total * sizeof(float));
    memcpy(g, m.grads, m.layout.total * sizeof(float));

    const double eps = 1e-2, rtol = 2e-2, atol = 2e-4;
    int bad = 0, checked = 0;
    double worst = 0;
    for (int i = 0; i < m.layout.n_tensors; i++) {
        const slm_tensor *t = &m.layout.tensors[i];
        int n = t->rows * t->cols, tensor_bad = 0;
        for (int k = 0; k < 4; k++) {
            size_t idx = t->offset + (size_t)(t_rand_u64(&s) % (uint64_t)n);
            float orig = p[idx];
            p[idx] = orig + (float)eps;
            double lp = loss_at(&m, tok, tgt);
            p[idx] = orig - (float)eps;
            double lm = loss_at(&m, tok, tgt);
            p[idx] = orig;
            double fd = (lp - lm) / (2 * eps), an = g[idx];
            double e = fabs(fd - an) - rtol * fmax(fabs(fd), fabs(an));
            if (e > worst) worst = e;
            if (e > atol) tensor_bad = 1;
            checked++;
        }
        if (tensor_bad) {
            bad++;
            printf("  mismatch in %s\n", t->name);
        }
    }
    t_check(!bad, "%s: %d coordinates over %d tensors match central differences (eps %.0e, rtol %.0e, atol %.0e)",
            tied ? "tied" : "untied", checked, m.layout.n_tensors, eps, rtol, atol);

    // directional derivative along a random direction over every parameter
    float *dir = malloc(m.layout.total * sizeof(float)), *p0 = malloc(m.layout.total * sizeof(float));
    t_fill_uniform(dir, m.layout.total, &s, -1, 1);
    memcpy(p0, p, m.layout.total * sizeof(float));
    double gd = 0, h = 1e-3;
    for (size_t i = 0; i < m.layout.total; i++) gd += (double)g[i] * dir[i];
    for (size_t i = 0; i < m.layout.total; i++) p[i] = p0[i] + (float)h * dir[i];
    double lp = loss_at(&m, tok, tgt);
    for (size_t i = 0; i < m.layout.total; i++) p[i] = p0[i] - (float)h * dir[i];
    double lm = loss_at(&m, tok, tgt);
    double fd = (lp - lm) / (2 * h);
    t_check(fabs(fd - gd) <= rtol * fabs(gd) + atol, "%s: directional derivative %.6f vs g·d %.6f",
            tied ? "tied" : "untied", fd, gd);
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
