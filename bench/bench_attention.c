// bench_attention.c — vanilla against flash attention on the CPU, measured in
// one run with the two alternating (docs/benchmarks.md): the attention op alone
// (forward + backward, one sequence, every head) and the whole training step
// (forward, backward, AdamW; micro batch 1), for the `small` and `100m`
// shapes at T = 256 … 4096. Prints, per point, the median times, the ratio
// vanilla/flash (> 1: flash is faster) and the ratio of attention memory.
//
// usage: bench_attention [--models small,100m] [--seq 256,512,1024,2048,4096] [--reps 3] [--no-step]
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/config.h"
#include "model/llama.h"
#include "train/optim.h"

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
static double median(double *x, int n) {
    qsort(x, (size_t)n, sizeof *x, cmp_d);
    return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

typedef struct {
    float *out, *saved, *scratch, *dq, *dk, *dv;
} attn_bufs;

static double time_op(slm_backend *be, slm_attention kind, attn_bufs *b, const float *q, const float *k, const float *v,
                      const float *dout, int T, int H, int hd) {
    const slm_ops *op = be->ops;
    slm_attn_fwd_fn fwd = kind == SLM_ATTN_FLASH ? op->attention_flash_fwd : op->attention_vanilla_fwd;
    slm_attn_bwd_fn bwd = kind == SLM_ATTN_FLASH ? op->attention_flash_bwd : op->attention_vanilla_bwd;
    double t0 = slm_now_s();
    fwd(b->out, b->saved, b->scratch, q, k, v, 1, T, H, H, hd);
    bwd(b->dq, b->dk, b->dv, b->scratch, dout, b->out, b->saved, q, k, v, 1, T, H, H, hd);
    return slm_now_s() - t0;
}

static void bench_op(slm_backend *be, const slm_model_config *c, int T, int reps) {
    const int H = c->n_heads, hd = slm_head_dim(c);
    size_t n = (size_t)T * H * hd;
    float *q = malloc(n * 4), *k = malloc(n * 4), *v = malloc(n * 4), *dout = malloc(n * 4);
    for (size_t i = 0; i < n; i++) q[i] = k[i] = v[i] = dout[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
    attn_bufs b[2];
    size_t mem[2];
    for (int kind = 0; kind < 2; kind++) {
        size_t sv, sc;
        slm_attention_sizes((slm_attention)kind, 1, T, H, hd, sizeof(float), &sv, &sc);
        mem[kind] = sv + sc;
        b[kind] =
            (attn_bufs){malloc(n * 4), malloc(sv + 4), malloc(sc + 4), malloc(n * 4), malloc(n * 4), malloc(n * 4)};
        time_op(be, (slm_attention)kind, &b[kind], q, k, v, dout, T, H, hd);  // warm-up, first touch
    }
    double t[2][64];
    for (int r = 0; r < reps; r++)
        for (int kind = 0; kind < 2; kind++)
            t[kind][r] = time_op(be, (slm_attention)kind, &b[kind], q, k, v, dout, T, H, hd);
    double mv = median(t[0], reps), mf = median(t[1], reps);
    printf("| %-5s | %5d | op (fwd+bwd) | %9.4f | %9.4f | %5.2fx | %10.1f | %8.2f | %6.0fx |\n", c->name, T, mv, mf,
           mv / mf, mem[0] / 1048576.0, mem[1] / 1048576.0, (double)mem[0] / mem[1]);
    fflush(stdout);
    for (int kind = 0; kind < 2; kind++) {
        free(b[kind].out), free(b[kind].saved), free(b[kind].scratch);
        free(b[kind].dq), free(b[kind].dk), free(b[kind].dv);
    }
    free(q), free(k), free(v), free(dout);
}

typedef struct {
    slm_backend *be;
    slm_model m;
    slm_optimizer opt;
} stepper;

static int step_init(stepper *s, const slm_model_config *c, int T, slm_attention kind) {
    slm_err err;
    s->be = slm_backend_cpu();
    const slm_adamw_config a = {1e-4f, 0.9f, 0.95f, 1e-8f, 0.1f, 1.0f};
    slm_owned own;
    if (slm_model_init(&s->m, c, s->be, 1, &err) || slm_model_alloc_acts(&s->m, 1, T, kind, &err) ||
        (own = slm_owned_model(&s->m), slm_optimizer_init(&s->opt, &s->m, &own, &a, &err))) {
        fprintf(stderr, "bench_attention: %s\n", err.msg);
        return -1;
    }
    slm_model_init_weights(&s->m, 1);
    return 0;
}

static double step_time(stepper *s, const int *tok, int T) {
    double t0 = slm_now_s();
    slm_model_zero_grads(&s->m);
    slm_model_forward(&s->m, tok, tok + 1, 1, T, 1.0f / T);
    slm_model_backward(&s->m);
    slm_optimizer_clip(&s->opt);
    slm_optimizer_step(&s->opt, 1e-4f);
    return slm_now_s() - t0;
}

static void step_free(stepper *s) {
    slm_optimizer_free(&s->opt);
    slm_model_free(&s->m);
    slm_backend_destroy(s->be);
}

static void bench_step(const slm_model_config *base, int T, int reps) {
    slm_model_config c = *base;
    if (c.seq_len < T) c.seq_len = T;
    int *tok = malloc((size_t)(T + 1) * sizeof(int));
    for (int i = 0; i <= T; i++) tok[i] = (int)((i * 2654435761u) % (unsigned)c.vocab);
    stepper s[2];
    for (int kind = 0; kind < 2; kind++) {
        if (step_init(&s[kind], &c, T, (slm_attention)kind)) exit(1);
        step_time(&s[kind], tok, T);  // warm-up
    }
    double t[2][64];
    for (int r = 0; r < reps; r++)
        for (int kind = 0; kind < 2; kind++) t[kind][r] = step_time(&s[kind], tok, T);
    size_t mem[2];
    for (int kind = 0; kind < 2; kind++) mem[kind] = s[kind].be->mem.peak[SLM_MEM_ATTENTION];
    double mv = median(t[0], reps), mf = median(t[1], reps);
    printf("| %-5s | %5d | training step | %9.3f | %9.3f | %5.2fx | %10.1f | %8.2f | %6.0fx |\n", c.name, T, mv, mf,
           mv / mf, mem[0] / 1048576.0, mem[1] / 1048576.0, (double)mem[0] / mem[1]);
    fflush(stdout);
    for (int kind = 0; kind < 2; kind++) step_free(&s[kind]);
    free(tok);
}

static int parse_list(const char *s, int *out, int max) {
    int n = 0;
    for (const char *p = s; *p && n < max; p = strchr(p, ',') ? strchr(p, ',') + 1 : p + strlen(p)) out[n++] = atoi(p);
    return n;
}

int main(int argc, char **argv) {
    const char *models = "small,100m";
    int seqs[16], n_seq = parse_list("256,512,1024,2048,4096", seqs, 16), reps = 3, do_step = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--models") && i + 1 < argc)
            models = argv[++i];
        else if (!strcmp(argv[i], "--seq") && i + 1 < argc)
            n_seq = parse_list(argv[++i], seqs, 16);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--no-step"))
            do_step = 0;
        else {
            fprintf(stderr,
                    "usage: bench_attention [--models small,100m] [--seq 256,512,...] [--reps N] [--no-step]\n");
            return 2;
        }
    }
    if (reps < 1 || reps > 64) reps = 3;
    slm_backend *be = slm_backend_cpu();
    printf("vanilla vs flash attention, fp32, %s, median of %d alternating runs after a warm-up\n\n", be->device, reps);
    printf(
        "| model | T | what | vanilla s | flash s | vanilla/flash | vanilla attn MiB | flash attn MiB | mem ratio |\n");
    printf("|---|---|---|---|---|---|---|---|---|\n");
    char list[128];
    snprintf(list, sizeof list, "%s", models);
    for (char *name = strtok(list, ","); name; name = strtok(NULL, ",")) {
        slm_model_config c;
        slm_err err;
        if (slm_preset(name, &c, &err)) {
            fprintf(stderr, "bench_attention: %s\n", err.msg);
            return 2;
        }
        for (int i = 0; i < n_seq; i++) {
            bench_op(be, &c, seqs[i], reps);
            if (do_step) bench_step(&c, seqs[i], reps);
        }
    }
    slm_backend_destroy(be);
    return 0;
}
