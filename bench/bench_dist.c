// bench_dist.c — DDP against FSDP over MPI, measured in one run (docs/benchmarks.md):
// for each world size, every strategy is launched in turn (`mpirun -np W slm
// train`, alternating, `--reps` rounds) on the same shape, one micro batch per
// rank, and its result record read back. Prints, per strategy and world size,
// the model state per rank — parameters + gradients + optimizer state + the
// whole-unit buffers FSDP gathers into (the record's comm bytes), on the rank
// with the largest peak — the whole peak,
// the median step time and the share of it spent waiting on communication,
// each as a ratio to DDP's. `ddp/no-overlap` and `fsdp-full/no-overlap` run
// with --overlap off, which is how the overlap's gain shows.
//
// usage: bench_dist [--slm build/slm] [--model 100m] [--seq 1024] [--worlds 2,4] [--steps 3] [--reps 1]
//                   [--threads 1] [--out FILE.jsonl]
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/record.h"

typedef struct {
    const char *name, *flags;
} variant;

static const variant VARIANTS[] = {
    {"ddp", "--strategy ddp"},
    {"ddp/no-overlap", "--strategy ddp --overlap off"},
    {"fsdp-full", "--strategy fsdp-full"},
    {"fsdp-full/no-overlap", "--strategy fsdp-full --overlap off"},
    {"fsdp-grad-op", "--strategy fsdp-grad-op"},
};
enum { N_VARIANTS = sizeof VARIANTS / sizeof VARIANTS[0], MAX_REPS = 16 };

typedef struct {
    double state_bytes, peak_bytes, step_s, comm_frac;
    int ok;
} figures;

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

// Runs one configuration and reads the last record it appended.
static figures run(const char *slm, const char *model, int T, int W, int steps, int threads, const variant *v,
                   const char *out) {
    figures f = {0};
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "mpirun --oversubscribe %s -np %d -x OMP_NUM_THREADS=%d %s train --model %s --seq-len %d "
             "--micro-batch 1 --global-batch %d --steps %d --warmup-steps 1 --data synthetic --eval-batches 1 "
             "--eval-every 0 --log-every 1000 %s --out %s >/dev/null 2>&1",
             getuid() == 0 ? "--allow-run-as-root" : "", W, threads, slm, model, T, W, steps, v->flags, out);
    if (system(cmd) != 0) {
        fprintf(stderr, "bench_dist: failed: %s\n", cmd);
        return f;
    }
    FILE *in = fopen(out, "r");
    static char line[1 << 16], last[1 << 16];
    last[0] = 0;
    while (in && fgets(line, sizeof line, in)) memcpy(last, line, sizeof line);
    if (in) fclose(in);
    slm_record r;
    slm_err err;
    if (slm_record_parse(last, &r, &err)) {
        fprintf(stderr, "bench_dist: %s: %s\n", out, err.msg);
        return f;
    }
    f.state_bytes = (double)(r.mem_bytes[SLM_MEM_PARAMS] + r.mem_bytes[SLM_MEM_GRADS] + r.mem_bytes[SLM_MEM_OPTIMIZER] +
                             r.mem_bytes[SLM_MEM_COMM]);
    f.peak_bytes = (double)r.peak_mem_bytes;
    f.step_s = r.step_time_s;
    f.comm_frac = r.comm_time_frac;
    f.ok = !strcmp(r.status, "ok");
    return f;
}

int main(int argc, char **argv) {
    const char *slm = "build/slm", *model = "100m", *worlds = "2,4", *out = "bench_dist.jsonl";
    int T = 1024, steps = 3, reps = 1, threads = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--slm"))
            slm = argv[i + 1];
        else if (!strcmp(argv[i], "--model"))
            model = argv[i + 1];
        else if (!strcmp(argv[i], "--seq"))
            T = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--worlds"))
            worlds = argv[i + 1];
        else if (!strcmp(argv[i], "--steps"))
            steps = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--reps"))
            reps = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--threads"))
            threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--out"))
            out = argv[i + 1];
        else {
            fprintf(stderr, "bench_dist: unknown flag %s (see the usage at the top of bench/bench_dist.c)\n", argv[i]);
            return 2;
        }
    }
    if (reps < 1 || reps > MAX_REPS || steps < 2 || T < 1 || threads < 1) {
        fprintf(stderr, "bench_dist: --reps 1..%d, --steps >= 2, --seq and --threads >= 1\n", MAX_REPS);
        return 2;
    }
    printf("%s, T=%d, micro batch 1 per rank, %d steps (1 warm-up), %d round(s) alternating, %d thread(s) per rank\n",
           model, T, steps, reps, threads);
    printf(
        "| world | strategy | model state / rank (MiB) | ratio to DDP | peak / rank (MiB) | step (s) | ratio to DDP "
        "| waiting on comm |\n|---|---|---|---|---|---|---|---|\n");
    char list[256];
    snprintf(list, sizeof list, "%s", worlds);
    for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
        int W = atoi(tok);
        double step[N_VARIANTS][MAX_REPS];
        figures last[N_VARIANTS];
        int ok[N_VARIANTS];
        for (int v = 0; v < N_VARIANTS; v++) ok[v] = 1;
        for (int r = 0; r < reps; r++)
            for (int v = 0; v < N_VARIANTS; v++) {
                last[v] = run(slm, model, T, W, steps, threads, &VARIANTS[v], out);
                step[v][r] = last[v].step_s;
                ok[v] &= last[v].ok;
            }
        double ddp_step;
        qsort(step[0], (size_t)reps, sizeof(double), cmp_d);
        ddp_step = step[0][reps / 2];
        for (int v = 0; v < N_VARIANTS; v++) {
            if (!ok[v]) {
                printf("| %d | %s | failed | | | | | |\n", W, VARIANTS[v].name);
                continue;
            }
            qsort(step[v], (size_t)reps, sizeof(double), cmp_d);
            double s = step[v][reps / 2];
            printf("| %d | %s | %.1f | %.3f | %.1f | %.2f | %.2f | %.0f%% |\n", W, VARIANTS[v].name,
                   last[v].state_bytes / 1048576.0, last[v].state_bytes / last[0].state_bytes,
                   last[v].peak_bytes / 1048576.0, s, s / ddp_step, 100.0 * last[v].comm_frac);
        }
        fflush(stdout);
    }
    printf("records: %s\n", out);
    return 0;
}
