// bench_attention_cuda.c — the CUDA FlashAttention-2 kernels alone, forward
// and backward, at the study's width: B = 8 sequences, d_model 2048 (H =
// 2048/hd heads, KVH = H), T = 512 … 4096, hd 64 and 128. Each is timed with
// CUDA events around one launch, after 3 warm-ups, median of --reps (≥ 10).
// Causal FLOPs: forward 2·2·B·H·T²·hd/2, backward 2.5× the forward.
// Prints a table and one JSON line per shape,
//   {"kernel":"slm-flash","B":…,"T":…,"H":…,"hd":…,"fwd_ms":…,"bwd_ms":…,"fwd_bwd_tflops":…}
// the fields of the PyTorch SDPA benchmark run beside it by make gpu-check.
//
// usage: bench_attention_cuda [--out FILE (appends the JSON lines)] [--reps N] [--seq 512,1024,2048,4096]
#include <stdio.h>

#ifndef SLM_HAVE_CUDA
int main(void) {
    printf("bench_attention_cuda: needs CUDA; this build has none\n");
    return 0;
}
#else
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend/cuda/attention_flash.h"

static void die_cuda(cudaError_t e, const char *what) {
    if (e == cudaSuccess) return;
    fprintf(stderr, "bench_attention_cuda: %s failed: %s\n", what, cudaGetErrorString(e));
    exit(1);
}

static int cmp_f(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}
static float median(float *x, int n) {
    qsort(x, (size_t)n, sizeof *x, cmp_f);
    return n % 2 ? x[n / 2] : 0.5f * (x[n / 2 - 1] + x[n / 2]);
}

typedef struct {
    int B, T, H, hd;
    void *q, *k, *v, *out, *dout, *dq, *dk, *dv, *scratch;
    float *lse;
} shape_bufs;

static void *dev_alloc(size_t bytes) {
    void *p = NULL;
    die_cuda(cudaMalloc(&p, bytes), "cudaMalloc");
    return p;
}

// Device tensors of n bf16 values uniform in [−1, 1) (bits of a small LCG).
static void *dev_random_bf16(size_t n, uint16_t *host, uint64_t *state) {
    for (size_t i = 0; i < n; i++) {
        *state = *state * 6364136223846793005ull + 1442695040888963407ull;
        float x = (float)(*state >> 40) / (float)(1 << 24) * 2.0f - 1.0f;
        uint32_t u;
        memcpy(&u, &x, sizeof u);
        host[i] = (uint16_t)(u >> 16);
    }
    void *d = dev_alloc(n * 2);
    die_cuda(cudaMemcpy(d, host, n * 2, cudaMemcpyHostToDevice), "copy to device");
    return d;
}

static void run_fwd(const shape_bufs *s) {
    slm_cuda_flash_fwd(s->out, s->lse, s->q, s->k, s->v, s->B, s->T, s->H, s->H, s->hd, 0);
}
static void run_bwd(const shape_bufs *s) {
    slm_cuda_flash_bwd(s->dq, s->dk, s->dv, s->scratch, s->dout, s->out, s->lse, s->q, s->k, s->v, s->B, s->T, s->H,
                       s->H, s->hd, 0);
}

// Median milliseconds of one call of fn over reps, after 3 warm-ups.
static float time_ms(void (*fn)(const shape_bufs *), const shape_bufs *s, int reps) {
    cudaEvent_t t0, t1;
    die_cuda(cudaEventCreate(&t0), "cudaEventCreate");
    die_cuda(cudaEventCreate(&t1), "cudaEventCreate");
    for (int i = 0; i < 3; i++) fn(s);
    die_cuda(cudaDeviceSynchronize(), "warm-up");
    float ms[256];
    for (int r = 0; r < reps; r++) {
        die_cuda(cudaEventRecord(t0, 0), "cudaEventRecord");
        fn(s);
        die_cuda(cudaEventRecord(t1, 0), "cudaEventRecord");
        die_cuda(cudaEventSynchronize(t1), "kernel");
        die_cuda(cudaEventElapsedTime(&ms[r], t0, t1), "cudaEventElapsedTime");
    }
    die_cuda(cudaGetLastError(), "launch");
    cudaEventDestroy(t0);
    cudaEventDestroy(t1);
    return median(ms, reps);
}

int main(int argc, char **argv) {
    const char *out_path = NULL, *seq = "512,1024,2048,4096";
    int reps = 20;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--out") && i + 1 < argc)
            out_path = argv[++i];
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seq") && i + 1 < argc)
            seq = argv[++i];
        else {
            fprintf(stderr, "usage: bench_attention_cuda [--out FILE] [--reps N (10 to 256)] [--seq 512,1024,...]\n");
            return 2;
        }
    }
    if (reps < 10 || reps > 256) {
        fprintf(stderr, "bench_attention_cuda: --reps %d, expected 10 to 256\n", reps);
        return 2;
    }
    int n_dev = 0;
    if (cudaGetDeviceCount(&n_dev) != cudaSuccess || n_dev == 0) {
        printf("bench_attention_cuda: no GPU, nothing measured\n");
        return 0;
    }
    struct cudaDeviceProp prop;
    die_cuda(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
    FILE *out = out_path ? fopen(out_path, "a") : NULL;
    if (out_path && !out) {
        fprintf(stderr, "bench_attention_cuda: cannot open %s for appending\n", out_path);
        return 1;
    }
    printf("slm flash attention (bf16, causal) on %s, median of %d\n", prop.name, reps);
    printf("%4s %6s %4s %4s %10s %10s %14s\n", "B", "T", "H", "hd", "fwd ms", "bwd ms", "fwd+bwd TFLOP/s");
    const int B = 8, d_model = 2048;
    uint64_t state = 7;
    for (int hd = 64; hd <= 128; hd *= 2) {
        for (const char *p = seq; *p;) {
            const int T = atoi(p), H = d_model / hd;
            if (T < 1) {
                fprintf(stderr, "bench_attention_cuda: --seq %s, expected positive lengths separated by commas\n", seq);
                return 2;
            }
            const size_t n = (size_t)B * T * H * hd;
            uint16_t *host = malloc(n * 2);
            shape_bufs s = {.B = B, .T = T, .H = H, .hd = hd};
            s.q = dev_random_bf16(n, host, &state);
            s.k = dev_random_bf16(n, host, &state);
            s.v = dev_random_bf16(n, host, &state);
            s.dout = dev_random_bf16(n, host, &state);
            free(host);
            s.out = dev_alloc(n * 2), s.dq = dev_alloc(n * 2), s.dk = dev_alloc(n * 2), s.dv = dev_alloc(n * 2);
            s.lse = dev_alloc((size_t)B * H * T * sizeof(float));
            s.scratch = dev_alloc(slm_cuda_flash_bwd_scratch_bytes(B, T, H, hd));
            const float fwd_ms = time_ms(run_fwd, &s, reps), bwd_ms = time_ms(run_bwd, &s, reps);
            const double fwd_flops = 2.0 * 2.0 * B * H * (double)T * T * hd / 2.0, bwd_flops = 2.5 * fwd_flops;
            const double tflops = (fwd_flops + bwd_flops) / ((fwd_ms + bwd_ms) * 1e-3) / 1e12;
            printf("%4d %6d %4d %4d %10.3f %10.3f %14.1f\n", B, T, H, hd, fwd_ms, bwd_ms, tflops);
            char line[256];
            snprintf(line, sizeof line,
                     "{\"kernel\":\"slm-flash\",\"B\":%d,\"T\":%d,\"H\":%d,\"hd\":%d,\"fwd_ms\":%.4f,\"bwd_ms\":%.4f,"
                     "\"fwd_bwd_tflops\":%.2f}",
                     B, T, H, hd, fwd_ms, bwd_ms, tflops);
            printf("%s\n", line);
            if (out) fprintf(out, "%s\n", line);
            void *bufs[] = {s.q, s.k, s.v, s.dout, s.out, s.dq, s.dk, s.dv, s.lse, s.scratch};
            for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) cudaFree(bufs[i]);
            p = strchr(p, ',') ? strchr(p, ',') + 1 : p + strlen(p);
        }
    }
    if (out) fclose(out);
    return 0;
}
#endif
