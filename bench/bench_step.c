// bench_step.c — the CPU training step at the hardware's limit, in fp32 and
// bf16: tokens/s, MFU against the peak `slm peak` cached for this machine,
// thread count and dtype (each dtype against its own GEMM peak), and where the
// step's time goes, op by op. The dtypes of a point run in alternation, round
// after round (fp32, bf16, fp32, bf16, …), so the bf16/fp32 ratio of each round
// compares two runs under the same machine load; the ratio printed is the
// median over rounds, with its range.
//
// The breakdown comes from a timing wrapper around the op table: an slm_ops
// whose every entry reads the clock, calls the real op and adds the elapsed
// time to that op's account, so the graph runs unchanged. The backend's copy
// and zero are wrapped the same way; "other" is the step time no op accounts
// for (the hooks, the host-side loss sum, the loop). A step is the trainer's:
// zero the gradients, forward, backward, clip, AdamW (docs/benchmarks.md).
//
// usage: bench_step [--points 100m:1024:1,100m:1024:4,small:256:8] [--dtypes fp32,bf16] [--rounds 3]
//                   [--warmup 1] [--steps N] [--min-s 10] [--attention flash|vanilla] [--clock wall|cpu]
// Each point is model:seq_len:micro_batch; each round's steps default to at
// least 10 and at least --min-s seconds (docs/benchmarks.md), --steps fixes the
// count instead. bf16 runs where the CPU has bf16 instructions (or under
// SLM_ALLOW_EMULATED_BF16=1, whose figures are the emulation's, not a speed).
// --clock cpu times with the process's CPU time instead of the wall clock: at
// OMP_NUM_THREADS=1 that is the work the step did, unchanged by other
// processes taking turns on a shared machine (with more threads it would also
// count threads spinning at barriers). Tokens/s and MFU then read "per CPU second".
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/backend.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/peak.h"
#include "model/llama.h"
#include "train/optim.h"

// One account per op family, in the order the table prints them.
enum {
    T_MATMUL_FWD,
    T_MATMUL_BWD,
    T_ATTN_FWD,
    T_ATTN_BWD,
    T_RMSNORM,
    T_ROPE,
    T_SWIGLU,
    T_XENT,
    T_EMBEDDING,
    T_OPTIMIZER,
    T_COPY,
    T_NACC
};
static const char *const acc_names[T_NACC] = {"matmul fwd", "matmul bwd", "attention fwd", "attention bwd",
                                              "rmsnorm",    "rope",       "swiglu",        "cross-entropy",
                                              "embedding",  "adamw+norm", "copy/zero"};
static double acc[T_NACC];
static const slm_ops *real;
static void (*real_copy)(void *, const void *, size_t);
static void (*real_zero)(void *, size_t);

static double cpu_now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
static double (*now_s)(void) = slm_now_s;  // --clock: slm_now_s (wall) or cpu_now_s

#define TIMED(slot, call)           \
    do {                            \
        double t0_ = now_s();       \
        call;                       \
        acc[slot] += now_s() - t0_; \
    } while (0)

static void t_embedding_fwd(void *out, const void *wte, const int *tok, int N, int C) {
    TIMED(T_EMBEDDING, real->embedding_fwd(out, wte, tok, N, C));
}
static void t_embedding_bwd(float *dwte, const void *dout, const int *tok, int N, int C) {
    TIMED(T_EMBEDDING, real->embedding_bwd(dwte, dout, tok, N, C));
}
static void t_rmsnorm_fwd(void *out, float *rstd, const void *x, const void *w, int N, int C, float eps) {
    TIMED(T_RMSNORM, real->rmsnorm_fwd(out, rstd, x, w, N, C, eps));
}
static void t_rmsnorm_bwd(void *dx, float *dw, const void *dout, const void *x, const void *w, const float *rstd, int N,
                          int C) {
    TIMED(T_RMSNORM, real->rmsnorm_bwd(dx, dw, dout, x, w, rstd, N, C));
}
static void t_matmul_fwd(void *out, const void *in, const void *w, int N, int IC, int OC, int accumulate) {
    TIMED(T_MATMUL_FWD, real->matmul_fwd(out, in, w, N, IC, OC, accumulate));
}
static void t_matmul_bwd(void *din, float *dw, const void *dout, const void *in, const void *w, int N, int IC, int OC,
                         int accumulate_din) {
    TIMED(T_MATMUL_BWD, real->matmul_bwd(din, dw, dout, in, w, N, IC, OC, accumulate_din));
}
static void t_rope_fwd(void *x, const float *cos, const float *sin, int B, int T, int nh, int hd) {
    TIMED(T_ROPE, real->rope_fwd(x, cos, sin, B, T, nh, hd));
}
static void t_rope_bwd(void *dx, const float *cos, const float *sin, int B, int T, int nh, int hd) {
    TIMED(T_ROPE, real->rope_bwd(dx, cos, sin, B, T, nh, hd));
}
#define ATTN_WRAPPERS(kind)                                                                                    \
    static void t_attention_##kind##_fwd(void *out, void *saved, void *scratch, const void *q, const void *k,  \
                                         const void *v, int B, int T, int H, int KVH, int hd) {                \
        TIMED(T_ATTN_FWD, real->attention_##kind##_fwd(out, saved, scratch, q, k, v, B, T, H, KVH, hd));       \
    }                                                                                                          \
    static void t_attention_##kind##_bwd(void *dq, void *dk, void *dv, void *scratch, const void *dout,        \
                                         const void *out, const void *saved, const void *q, const void *k,     \
                                         const void *v, int B, int T, int H, int KVH, int hd) {                \
        TIMED(T_ATTN_BWD,                                                                                      \
              real->attention_##kind##_bwd(dq, dk, dv, scratch, dout, out, saved, q, k, v, B, T, H, KVH, hd)); \
    }
ATTN_WRAPPERS(vanilla)
ATTN_WRAPPERS(flash)
static void t_swiglu_fwd(void *h, const void *g, const void *u, size_t n) {
    TIMED(T_SWIGLU, real->swiglu_fwd(h, g, u, n));
}
static void t_swiglu_bwd(void *dg, void *du, const void *dh, const void *g, const void *u, size_t n) {
    TIMED(T_SWIGLU, real->swiglu_bwd(dg, du, dh, g, u, n));
}
static void t_xent_fwd_bwd(float *losses, void *logits, const int *targets, int N, int V, float dscale) {
    TIMED(T_XENT, real->xent_fwd_bwd(losses, logits, targets, N, V, dscale));
}
static void t_adamw(float *p, const float *g, float *m, float *v, void *p_compute, size_t n, float lr, float beta1,
                    float beta2, float eps, float weight_decay, int t) {
    TIMED(T_OPTIMIZER, real->adamw(p, g, m, v, p_compute, n, lr, beta1, beta2, eps, weight_decay, t));
}
static double t_sumsq(const float *x, size_t n) {
    double s;
    TIMED(T_OPTIMIZER, s = real->sumsq(x, n));
    return s;
}
static void t_scale(float *x, size_t n, float s) { TIMED(T_OPTIMIZER, real->scale(x, n, s)); }
static void t_copy(void *dst, const void *src, size_t bytes) { TIMED(T_COPY, real_copy(dst, src, bytes)); }
static void t_zero(void *p, size_t bytes) { TIMED(T_COPY, real_zero(p, bytes)); }

// Puts the timing wrapper between the graph and the backend's ops. An op
// this file does not wrap runs untimed, and its time shows as "other".
static slm_ops timed_ops;
static void wrap_backend(slm_backend *be) {
    real = be->ops;
    real_copy = be->copy;
    real_zero = be->zero;
    timed_ops = *real;
    timed_ops.embedding_fwd = t_embedding_fwd;
    timed_ops.embedding_bwd = t_embedding_bwd;
    timed_ops.rmsnorm_fwd = t_rmsnorm_fwd;
    timed_ops.rmsnorm_bwd = t_rmsnorm_bwd;
    timed_ops.matmul_fwd = t_matmul_fwd;
    timed_ops.matmul_bwd = t_matmul_bwd;
    timed_ops.rope_fwd = t_rope_fwd;
    timed_ops.rope_bwd = t_rope_bwd;
    timed_ops.attention_vanilla_fwd = t_attention_vanilla_fwd;
    timed_ops.attention_vanilla_bwd = t_attention_vanilla_bwd;
    if (real->attention_flash_fwd) timed_ops.attention_flash_fwd = t_attention_flash_fwd;
    if (real->attention_flash_bwd) timed_ops.attention_flash_bwd = t_attention_flash_bwd;
    timed_ops.swiglu_fwd = t_swiglu_fwd;
    timed_ops.swiglu_bwd = t_swiglu_bwd;
    timed_ops.xent_fwd_bwd = t_xent_fwd_bwd;
    timed_ops.adamw = t_adamw;
    timed_ops.sumsq = t_sumsq;
    timed_ops.scale = t_scale;
    be->ops = &timed_ops;
    be->copy = t_copy;
    be->zero = t_zero;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double percentile(const double *x, int n, double q) {
    double *s = malloc((size_t)n * sizeof *s);
    memcpy(s, x, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_d);
    double pos = q * (n - 1);
    int lo = (int)pos, hi = lo + 1 < n ? lo + 1 : lo;
    double v = s[lo] + (pos - lo) * (s[hi] - s[lo]);
    free(s);
    return v;
}

typedef struct {
    const char *model;
    int T, B;
} point;

enum { MAX_STEPS = 1000, MAX_ROUNDS = 50, MAX_DTYPES = 2 };

// What the rounds of one (point, dtype) measured.
typedef struct {
    slm_dtype dtype;
    char device[128];
    double round_median[MAX_ROUNDS];  // each round's median step, s
    double op_s[T_NACC], total_s;     // summed over every timed step of every round
    int steps;
    slm_peak peak;
    int have_peak;
} series;

static slm_backend *open_cpu(slm_dtype dt) { return dt == SLM_BF16 ? slm_backend_cpu_bf16() : slm_backend_cpu(); }

// One round of a point in one dtype: warm-up steps, then timed ones; adds to s.
static void run_round(const point *pt, const slm_model_config *c, slm_attention attn, int warmup, int fixed_steps,
                      double min_s, series *s, int round) {
    slm_backend *be = open_cpu(s->dtype);
    wrap_backend(be);
    slm_model m;
    slm_optimizer opt;
    slm_err err;
    const slm_adamw_config a = {1e-4f, 0.9f, 0.95f, 1e-8f, 0.1f, 1.0f};
    slm_owned own;
    if (slm_model_init(&m, c, be, 1, &err) || slm_model_alloc_acts(&m, pt->B, pt->T, attn, &err) ||
        (own = slm_owned_model(&m), slm_optimizer_init(&opt, &m, &own, &a, &err))) {
        fprintf(stderr, "bench_step: %s\n", err.msg);
        exit(1);
    }
    slm_model_init_weights(&m, 1);
    const int N = pt->B * pt->T;
    int *tok = malloc((size_t)(N + 1) * sizeof(int));
    for (int i = 0; i <= N; i++) tok[i] = (int)((i * 2654435761u) % (unsigned)c->vocab);
    double step_s[MAX_STEPS], total = 0.0;
    int steps = 0;
    for (int k = 0; k < warmup + MAX_STEPS; k++) {
        if (k == warmup) memset(acc, 0, sizeof acc);
        double t0 = now_s();
        slm_model_zero_grads(&m);
        slm_model_forward(&m, tok, tok + 1, pt->B, pt->T, 1.0f / (float)N);
        slm_model_backward(&m);
        slm_optimizer_clip(&opt);
        slm_optimizer_step(&opt, 1e-4f);
        double dt = now_s() - t0;
        if (k < warmup) continue;
        step_s[steps++] = dt;
        total += dt;
        if (fixed_steps ? steps >= fixed_steps : steps >= 10 && total >= min_s) break;
    }
    s->round_median[round] = percentile(step_s, steps, 0.5);
    for (int i = 0; i < T_NACC; i++) s->op_s[i] += acc[i];
    s->total_s += total;
    s->steps += steps;
    snprintf(s->device, sizeof s->device, "%s", be->device);
    free(tok);
    slm_optimizer_free(&opt);
    slm_model_free(&m);
    slm_backend_destroy(be);
}

static void print_series(const point *pt, const slm_model_config *c, const series *s, int rounds) {
    double med = percentile(s->round_median, rounds, 0.5), tps = pt->B * pt->T / med;
    double fpt = slm_flops_per_token(c, pt->T);
    printf("\n%s, T=%d, micro batch %d, %s: %d steps in %d rounds, median step %.3f s (rounds %.3f to %.3f)\n", c->name,
           pt->T, pt->B, slm_dtype_name(s->dtype), s->steps, rounds, med, percentile(s->round_median, rounds, 0.0),
           percentile(s->round_median, rounds, 1.0));
    printf("  %s\n", s->device);
    if (s->have_peak)
        printf("  %.0f tokens/s, %.1f GFLOP/s model FLOPs, MFU %.1f%% of the %.1f GFLOP/s %s GEMM peak\n", tps,
               fpt * tps / 1e9, 100.0 * fpt * tps / s->peak.flops_per_s, s->peak.flops_per_s / 1e9,
               slm_dtype_name(s->dtype));
    else
        printf("  %.0f tokens/s, %.1f GFLOP/s model FLOPs, MFU n/a (no %s peak cached: run `slm peak --dtype %s`)\n",
               tps, fpt * tps / 1e9, slm_dtype_name(s->dtype), slm_dtype_name(s->dtype));
    printf("  | op | s per step | share |\n  |---|---|---|\n");
    double accounted = 0.0;
    for (int i = 0; i < T_NACC; i++) {
        accounted += s->op_s[i];
        printf("  | %-13s | %8.4f | %5.1f%% |\n", acc_names[i], s->op_s[i] / s->steps, 100.0 * s->op_s[i] / s->total_s);
    }
    printf("  | %-13s | %8.4f | %5.1f%% |\n", "other", (s->total_s - accounted) / s->steps,
           100.0 * (s->total_s - accounted) / s->total_s);
}

static void bench_point(const point *pt, slm_attention attn, const slm_dtype *dtypes, int n_dtypes, int rounds,
                        int warmup, int fixed_steps, double min_s) {
    slm_model_config c;
    slm_err err;
    if (slm_preset(pt->model, &c, &err)) {
        fprintf(stderr, "bench_step: %s\n", err.msg);
        exit(2);
    }
    if (c.seq_len < pt->T) c.seq_len = pt->T;
    series s[MAX_DTYPES];
    memset(s, 0, sizeof s);
    for (int d = 0; d < n_dtypes; d++) s[d].dtype = dtypes[d];
    for (int r = 0; r < rounds; r++)
        for (int d = 0; d < n_dtypes; d++) run_round(pt, &c, attn, warmup, fixed_steps, min_s, &s[d], r);
    for (int d = 0; d < n_dtypes; d++) {
        s[d].have_peak = slm_peak_lookup(s[d].device, slm_dtype_name(s[d].dtype), &s[d].peak) == 0;
        print_series(pt, &c, &s[d], rounds);
    }
    if (n_dtypes == 2) {
        double ratio[MAX_ROUNDS];
        for (int r = 0; r < rounds; r++) ratio[r] = s[0].round_median[r] / s[1].round_median[r];
        printf("\n  %s/%s tokens/s, %s T=%d mb %d: %.2fx (median of %d alternating rounds; %.2f to %.2f)\n",
               slm_dtype_name(dtypes[1]), slm_dtype_name(dtypes[0]), c.name, pt->T, pt->B,
               percentile(ratio, rounds, 0.5), rounds, percentile(ratio, rounds, 0.0), percentile(ratio, rounds, 1.0));
    }
    fflush(stdout);
}

static void usage(void) {
    fprintf(stderr,
            "usage: bench_step [--points model:T:B,...] [--dtypes fp32,bf16] [--rounds R] [--warmup N] [--steps N] "
            "[--min-s S] [--attention flash|vanilla] [--clock wall|cpu]\n");
    exit(2);
}

// The dtypes of --dtypes (default fp32 and, where it may run, bf16) into out.
static int parse_dtypes(const char *text, slm_dtype *out) {
    char list[64];
    int n = 0;
    snprintf(list, sizeof list, "%s", text ? text : slm_cpu_bf16_refusal() ? "fp32" : "fp32,bf16");
    for (char *t = strtok(list, ","); t; t = strtok(NULL, ",")) {
        if (n == MAX_DTYPES || slm_dtype_parse(t, &out[n]) || out[n] == SLM_F64) usage();
        if (out[n] == SLM_BF16 && slm_cpu_bf16_refusal()) {
            fprintf(stderr, "bench_step: --dtypes bf16: %s\n", slm_cpu_bf16_refusal());
            exit(2);
        }
        n++;
    }
    if (!text && slm_cpu_bf16_refusal()) printf("bf16 not measured: %s\n", slm_cpu_bf16_refusal());
    return n;
}

int main(int argc, char **argv) {
    const char *points = "100m:1024:1,100m:1024:4,small:256:8", *dtype_text = NULL;
    int warmup = 1, steps = 0, rounds = 3;
    double min_s = 10.0;
    slm_attention attn = SLM_ATTN_FLASH;
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc) usage();
        if (!strcmp(argv[i], "--points"))
            points = argv[++i];
        else if (!strcmp(argv[i], "--dtypes"))
            dtype_text = argv[++i];
        else if (!strcmp(argv[i], "--rounds"))
            rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--warmup"))
            warmup = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--steps"))
            steps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--min-s"))
            min_s = atof(argv[++i]);
        else if (!strcmp(argv[i], "--attention"))
            attn = !strcmp(argv[++i], "vanilla") ? SLM_ATTN_VANILLA : SLM_ATTN_FLASH;
        else if (!strcmp(argv[i], "--clock"))
            now_s = !strcmp(argv[++i], "cpu") ? cpu_now_s : slm_now_s;
        else
            usage();
    }
    if (warmup < 0 || steps < 0 || steps > MAX_STEPS || rounds < 1 || rounds > MAX_ROUNDS) usage();
    slm_dtype dtypes[MAX_DTYPES];
    int n_dtypes = parse_dtypes(dtype_text, dtypes);
    printf("training step, %s attention, %s clock, rounds of", slm_attention_names[attn],
           now_s == cpu_now_s ? "process CPU" : "wall");
    for (int d = 0; d < n_dtypes; d++) printf(" %s", slm_dtype_name(dtypes[d]));
    printf("\n");
    char list[512];
    snprintf(list, sizeof list, "%s", points);
    char *save = NULL;
    for (char *s = strtok_r(list, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
        point pt = {s, 0, 0};
        char *c1 = strchr(s, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2) usage();
        *c1 = *c2 = 0;
        pt.T = atoi(c1 + 1);
        pt.B = atoi(c2 + 1);
        if (pt.T < 1 || pt.B < 1) usage();
        bench_point(&pt, attn, dtypes, n_dtypes, rounds, warmup, steps, min_s);
    }
    return 0;
}
