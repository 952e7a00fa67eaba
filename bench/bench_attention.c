// bench_attention.c — vanilla against flash attention on the CPU, measured in
// one run with the two alternating (docs/benchmarks.md): the attention op alone
// (forward + backward, one sequence, every head) and the whole training step
// (forward, backward, AdamW; micro batch 1), for the `small` and `100m`
// shapes at T = 256 … 4096. Prints, per point, the median times, the ratio
// vanilla/flash (> 1: flash is faster) and the ratio of attention memory.
// With --dtypes, flash attention in fp32 against flash in bf16 instead (the
// CPU's bf16 backend), the op alone, H heads of hd (default 12 of 64): the
// ratio fp32/bf16 (> 1: bf16 is faster). Either way the comparison is a pair
// of contenders (an attention kind on a backend), each in its compute dtype.
//
// usage: bench_attention [--models small,100m] [--seq 256,512,1024,2048,4096] [--reps 3] [--no-step]
//        bench_attention --dtypes [--heads 12] [--head-dim 64] [--seq 1024,2048] [--reps 3]
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

// One side of a comparison: an attention kind on a backend (whose compute
// dtype its tensors are in).
typedef struct {
    slm_backend *be;
    slm_attention kind;
} contender;

typedef struct {
    void *q, *k, *v, *dout, *out, *saved, *scratch, *dq, *dk, *dv;
    size_t attn_bytes;  // saved + scratch (slm_attention_sizes)
} attn_bufs;

// A contender's tensors for one sequence of T tokens, H heads of hd: the
// inputs the same pattern on every side, in its compute dtype.
static attn_bufs bufs_alloc(const contender *c, int T, int H, int hd) {
    const size_t n = (size_t)T * H * hd, e = c->be->compute == SLM_BF16 ? 2 : 4;
    size_t sv, sc;
    slm_attention_sizes(c->kind, 1, T, H, hd, e, &sv, &sc);
    attn_bufs b = {malloc(n * e),  malloc(n * e), malloc(n * e), malloc(n * e), malloc(n * e), malloc(sv + 4),
                   malloc(sc + 4), malloc(n * e), malloc(n * e), malloc(n * e), sv + sc};
    float *x = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) x[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
    void *in[4] = {b.q, b.k, b.v, b.dout};
    for (int i = 0; i < 4; i++) c->be->ops->to_compute(in[i], x, n);
    free(x);
    return b;
}

static void bufs_free(attn_bufs *b) {
    void *p[10] = {b->q, b->k, b->v, b->dout, b->out, b->saved, b->scratch, b->dq, b->dk, b->dv};
    for (int i = 0; i < 10; i++) free(p[i]);
}

static double time_op(const contender *c, attn_bufs *b, int T, int H, int hd) {
    const slm_ops *op = c->be->ops;
    slm_attn_fwd_fn fwd = c->kind == SLM_ATTN_FLASH ? op->attention_flash_fwd : op->attention_vanilla_fwd;
    slm_attn_bwd_fn bwd = c->kind == SLM_ATTN_FLASH ? op->attention_flash_bwd : op->attention_vanilla_bwd;
    double t0 = slm_now_s();
    fwd(b->out, b->saved, b->scratch, b->q, b->k, b->v, 1, T, H, H, hd);
    bwd(b->dq, b->dk, b->dv, b->scratch, b->dout, b->out, b->saved, b->q, b->k, b->v, 1, T, H, H, hd);
    return slm_now_s() - t0;
}

// The op (forward + backward, one sequence) of two contenders, alternating;
// one table row labelled `label`.
static void bench_op(const contender c[2], const char *label, int T, int H, int hd, int reps) {
    attn_bufs b[2];
    for (int i = 0; i < 2; i++) {
        b[i] = bufs_alloc(&c[i], T, H, hd);
        time_op(&c[i], &b[i], T, H, hd);  // warm-up, first touch
    }
    double t[2][64];
    for (int r = 0; r < reps; r++)
        for (int i = 0; i < 2; i++) t[i][r] = time_op(&c[i], &b[i], T, H, hd);
    double m0 = median(t[0], reps), m1 = median(t[1], reps), mem = (double)b[0].attn_bytes / b[1].attn_bytes;
    printf("| %-5s | %5d | op (fwd+bwd) | %9.4f | %9.4f | %5.2fx | %10.2f | %8.2f | %6.*fx |\n", label, T, m0, m1,
           m0 / m1, b[0].attn_bytes / 1048576.0, b[1].attn_bytes / 1048576.0, mem >= 10 ? 0 : 2, mem);
    fflush(stdout);
    for (int i = 0; i < 2; i++) bufs_free(&b[i]);
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

typedef struct {
    const char *models;
    int seqs[16], n_seq, reps, do_step, dtypes, heads, head_dim;
} options;

static int parse(int argc, char **argv, options *o) {
    *o = (options){.models = "small,100m", .reps = 3, .do_step = 1, .heads = 12, .head_dim = 64};
    o->n_seq = parse_list("256,512,1024,2048,4096", o->seqs, 16);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--models") && i + 1 < argc)
            o->models = argv[++i];
        else if (!strcmp(argv[i], "--seq") && i + 1 < argc)
            o->n_seq = parse_list(argv[++i], o->seqs, 16);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            o->reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--no-step"))
            o->do_step = 0;
        else if (!strcmp(argv[i], "--dtypes"))
            o->dtypes = 1;
        else if (!strcmp(argv[i], "--heads") && i + 1 < argc)
            o->heads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--head-dim") && i + 1 < argc)
            o->head_dim = atoi(argv[++i]);
        else
            return -1;
    }
    if (o->reps < 1 || o->reps > 64) o->reps = 3;
    return o->heads > 0 && o->head_dim > 0 ? 0 : -1;
}

static const char *const TABLE_TAIL = " attn MiB | mem ratio |\n|---|---|---|---|---|---|---|---|---|\n";

// --dtypes: flash attention in fp32 against flash in bf16, the op alone.
static void bench_dtypes(const options *o) {
    slm_backend *f32 = slm_backend_cpu(), *bf16 = slm_backend_cpu_bf16();
    const contender c[2] = {{f32, SLM_ATTN_FLASH}, {bf16, SLM_ATTN_FLASH}};
    printf("flash attention, fp32 vs bf16, %s, median of %d alternating runs after a warm-up\n\n", bf16->device,
           o->reps);
    printf("| H, hd | T | what | fp32 s | bf16 s | fp32/bf16 | fp32 attn MiB | bf16%s", TABLE_TAIL);
    char label[32];
    snprintf(label, sizeof label, "%d, %d", o->heads, o->head_dim);
    for (int i = 0; i < o->n_seq; i++) bench_op(c, label, o->seqs[i], o->heads, o->head_dim, o->reps);
    slm_backend_destroy(bf16);
    slm_backend_destroy(f32);
}

// The default: vanilla against flash in fp32, the op and the training step, per model.
static int bench_kinds(const options *o) {
    slm_backend *be = slm_backend_cpu();
    const contender c[2] = {{be, SLM_ATTN_VANILLA}, {be, SLM_ATTN_FLASH}};
    printf("vanilla vs flash attention, fp32, %s, median of %d alternating runs after a warm-up\n\n", be->device,
           o->reps);
    printf("| model | T | what | vanilla s | flash s | vanilla/flash | vanilla attn MiB | flash%s", TABLE_TAIL);
    char list[128];
    snprintf(list, sizeof list, "%s", o->models);
    for (char *name = strtok(list, ","); name; name = strtok(NULL, ",")) {
        slm_model_config m;
        slm_err err;
        if (slm_preset(name, &m, &err)) {
            fprintf(stderr, "bench_attention: %s\n", err.msg);
            return 2;
        }
        for (int i = 0; i < o->n_seq; i++) {
            bench_op(c, m.name, o->seqs[i], m.n_heads, slm_head_dim(&m), o->reps);
            if (o->do_step) bench_step(&m, o->seqs[i], o->reps);
        }
    }
    slm_backend_destroy(be);
    return 0;
}

int main(int argc, char **argv) {
    options o;
    if (parse(argc, argv, &o)) {
        fprintf(stderr,
                "usage: bench_attention [--models small,100m] [--seq 256,512,...] [--reps N] [--no-step]\n"
                "       bench_attention --dtypes [--heads 12] [--head-dim 64] [--seq ...] [--reps N]\n");
        return 2;
    }
    if (!o.dtypes) return bench_kinds(&o);
    bench_dtypes(&o);
    return 0;
}
