// test_dist.c — the strategies over MPI reproduce one process.
// label: mpi
//
// Runs `slm train` (the binary in SLM_BIN) on `tiny`, synthetic data, global
// batch 12 of micro batches 2, for 5 steps: once in one process, then under
// `mpirun -np 2` and `-np 3` (uneven shards) with each strategy (and with
// overlap off), and checks that every run logs the same 5 losses and ends
// with the same parameters (relative 1e-5: the reductions add in another
// order). Adam's update m/(sqrt(v)+eps) turns rounding-level differences of
// near-zero gradient elements into differences of the order of lr (measured:
// 2.3e-4 at eps 1e-8, lr 3e-3, world size 3), so the runs use eps 1e-6, where
// the update is a smooth function of the gradient (3e-6 measured). Then an FSDP checkpoint written at world size 2
// after 3 steps is compared with one process's at step 3, and resumed at world size 3 and 1: same losses for steps 4
// and 5, same parameters at the end. Last, a rank that fails (its data file is missing; its flags are wrong) ends the
// job with its message within seconds. Each strategy's per-rank memory is what slm_strategy_plan (`slm info --strategy
// S --world-size N`) says.
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backend/backend.h"
#include "core/record.h"
#include "data/tokfile.h"
#include "model/llama.h"
#include "parallel/strategy.h"
#include "testutil.h"
#include "train/checkpoint.h"

enum { STEPS = 5 };
static const double TOL = 1e-5;
static const char *slm;
static char launch[256];  // "timeout 120 mpirun --oversubscribe [--allow-run-as-root] -x …"
static const char *RUN =
    "train --model tiny --seq-len 32 --micro-batch 2 --global-batch 12 --steps 5 --warmup-steps 1 --lr 1e-3 --adam-eps "
    "1e-6 "
    "--data synthetic --eval-batches 1 --eval-every 0";

// Runs a shell command, output to `<name>.out`; returns its exit status and wall time.
static int sh(const char *name, double *seconds, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int sh(const char *name, double *seconds, const char *fmt, ...) {
    char cmd[4096], full[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    snprintf(full, sizeof full, "%s >%s 2>&1", cmd, t_tmp_path(name));
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int st = system(full);
    clock_gettime(CLOCK_MONOTONIC, &b);
    if (seconds) *seconds = (double)(b.tv_sec - a.tv_sec) + 1e-9 * (double)(b.tv_nsec - a.tv_nsec);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static int contains(const char *name, const char *needle) {
    FILE *f = fopen(t_tmp_path(name), "r");
    char line[1024];
    int found = 0;
    while (f && !found && fgets(line, sizeof line, f)) found = strstr(line, needle) != NULL;
    if (f) fclose(f);
    return found;
}

// The validation loss before training (step 0) of a --log-file, or NAN.
static double read_val0(const char *name) {
    FILE *f = fopen(t_tmp_path(name), "r");
    char line[1024];
    double v = NAN;
    if (f && fgets(line, sizeof line, f) && !strncmp(line, "{\"step\":0,", 10) && strstr(line, "\"val_loss\":"))
        v = atof(strstr(line, "\"val_loss\":") + 11);
    if (f) fclose(f);
    return v;
}

// The training losses of a --log-file, in step order; returns how many.
static int read_losses(const char *name, double *loss, int max) {
    FILE *f = fopen(t_tmp_path(name), "r");
    char line[1024];
    int n = 0;
    while (f && fgets(line, sizeof line, f)) {
        int step;
        const char *l = strstr(line, "\"loss\":");
        if (l && sscanf(line, "{\"step\":%d", &step) == 1 && step >= 1 && step <= max) {
            loss[step - 1] = atof(l + 7);
            n++;
        }
    }
    if (f) fclose(f);
    return n;
}

// The parameters of a checkpoint (a file or an FSDP manifest), host floats.
static float *read_params(const char *name, size_t *n) {
    slm_model_config cfg;
    slm_ckpt_meta meta;
    slm_err err;
    char path[4096];
    snprintf(path, sizeof path, "%s", t_tmp_path(name));
    if (slm_checkpoint_peek(path, &cfg, &meta, &err)) {
        t_check(0, "read checkpoint %s: %s", name, err.msg);
        return NULL;
    }
    slm_backend *be = slm_backend_cpu();
    slm_model m;
    float *out = NULL;
    if (slm_model_init(&m, &cfg, be, 0, &err) == 0 && slm_checkpoint_load_model(path, &m, &meta, &err) == 0) {
        *n = m.layout.total;
        out = slm_xmalloc(*n * sizeof(float));
        memcpy(out, m.params, *n * sizeof(float));
    } else {
        t_check(0, "load checkpoint %s: %s", name, err.msg);
    }
    slm_model_free(&m);
    slm_backend_destroy(be);
    return out;
}

static double loss_err(const double *a, const double *b, int from, int to) {
    double worst = 0;
    for (int i = from; i < to; i++) worst = fmax(worst, fabs(a[i] - b[i]) / fabs(b[i]));
    return worst;
}

// One run against the reference: its exit status, losses from `from` on (and
// from step 0, the validation loss before training: the same validation set
// at any world size), final parameters.
static void compare(const char *what, int status, const char *log, const char *ckpt, const double *ref_loss,
                    double ref_val0, const float *ref_p, size_t n_ref, int from) {
    double loss[STEPS] = {0};
    int n = read_losses(log, loss, STEPS);
    t_check(status == 0, "%s: exit status %d", what, status);
    if (status) return;
    double le = loss_err(loss, ref_loss, from, STEPS);
    t_check(n == STEPS - from && le <= TOL, "%s: losses of steps %d..%d (%d logged) max rel err %.1e (tol %.0e)", what,
            from + 1, STEPS, n, le, TOL);
    if (from == 0) {
        double v0 = read_val0(log), ve = fabs(v0 - ref_val0) / ref_val0;
        t_check(ve <= TOL, "%s: validation loss before training %.7f vs %.7f in one process (rel err %.1e)", what, v0,
                ref_val0, ve);
    }
    size_t np = 0;
    float *p = read_params(ckpt, &np);
    if (!p) return;
    double pe = np == n_ref ? t_max_rel_err(p, ref_p, np, 0.0) : INFINITY;
    t_check(pe <= TOL, "%s: parameters after step %d, max |diff| / max |ref| %.1e (tol %.0e)", what, STEPS, pe, TOL);
    free(p);
}

// The run's per-rank model state (its record) is what slm_strategy_plan (slm info) says.
static void check_plan(const char *what, const char *rec_name, slm_strategy_kind kind, int world) {
    FILE *f = fopen(t_tmp_path(rec_name), "r");
    static char line[1 << 16];
    slm_record r;
    slm_err err;
    int ok = f && fgets(line, sizeof line, f) && slm_record_parse(line, &r, &err) == 0;
    if (f) fclose(f);
    if (!ok) {
        t_check(0, "%s: its result record reads back", what);
        return;
    }
    slm_strategy_cost cost;
    slm_strategy_plan(&r.run.model, kind, 1, world, 1, SLM_F32, &cost);
    const size_t *plan = cost.bytes;
    const slm_mem_cat cats[] = {SLM_MEM_PARAMS, SLM_MEM_GRADS, SLM_MEM_OPTIMIZER, SLM_MEM_COMM};
    int same = 1;
    for (int i = 0; i < 4; i++) same &= plan[cats[i]] == r.mem_bytes[cats[i]];
    t_check(same, "%s: per-rank params %zu, grads %zu, optimizer %zu, comm %zu bytes, as planned (%zu, %zu, %zu, %zu)",
            what, r.mem_bytes[SLM_MEM_PARAMS], r.mem_bytes[SLM_MEM_GRADS], r.mem_bytes[SLM_MEM_OPTIMIZER],
            r.mem_bytes[SLM_MEM_COMM], plan[SLM_MEM_PARAMS], plan[SLM_MEM_GRADS], plan[SLM_MEM_OPTIMIZER],
            plan[SLM_MEM_COMM]);
}

// A one-process run with extra flags, and two strategies at their world sizes against it.
static void variant(const char *name, const char *extra, const char *s1, int np1, const char *s2, int np2) {
    const char *dir = t_tmpdir();
    double loss[STEPS] = {0};
    size_t n = 0;
    int st = sh("variant.out", NULL, "OMP_NUM_THREADS=1 %s %s %s --log-file %s/v.jsonl --save %s/v.ckpt", slm, RUN,
                extra, dir, dir);
    float *p = st == 0 && read_losses("v.jsonl", loss, STEPS) == STEPS ? read_params("v.ckpt", &n) : NULL;
    t_check(p != NULL, "%s: reference run in one process, exit %d", name, st);
    if (!p) return;
    double val0 = read_val0("v.jsonl");
    const char *strategy[2] = {s1, s2};
    int np[2] = {np1, np2};
    for (int k = 0; k < 2; k++) {
        char what[128];
        snprintf(what, sizeof what, "%s: %s at world size %d", name, strategy[k], np[k]);
        st = sh("run.out", NULL, "%s -np %d %s %s %s --strategy %s --log-file %s/w.jsonl --save %s/w.ckpt", launch,
                np[k], slm, RUN, extra, strategy[k], dir, dir);
        compare(what, st, "w.jsonl", "w.ckpt", loss, val0, p, n, 0);
    }
    free(p);
}

int main(void) {
    slm = getenv("SLM_BIN");
    if (!slm || access(slm, X_OK)) {
        t_check(0, "SLM_BIN names the slm binary (got %s)", slm ? slm : "nothing");
        return t_finish("test_dist");
    }
    if (system("command -v mpirun >/dev/null 2>&1")) {
        t_check(0, "mpirun is installed (make deps installs openmpi-bin)");
        return t_finish("test_dist");
    }
    // Under the sanitizer build, OpenMPI's and OpenBLAS's own allocations that
    // live until exit would read as leaks: ranks check memory errors but not
    // leaks (the one-process runs below check leaks on the same code).
    snprintf(launch, sizeof launch,
             "timeout 120 mpirun --oversubscribe %s -x OMP_NUM_THREADS=1 -x ASAN_OPTIONS=detect_leaks=0:exitcode=23",
             getuid() == 0 ? "--allow-run-as-root" : "");
    const char *dir = t_tmpdir();

    // the reference: one process
    int st =
        sh("ref.out", NULL, "OMP_NUM_THREADS=1 %s %s --log-file %s/ref.jsonl --save %s/ref.ckpt", slm, RUN, dir, dir);
    double ref_loss[STEPS] = {0};
    size_t n_ref = 0;
    int n_loss = st == 0 ? read_losses("ref.jsonl", ref_loss, STEPS) : 0;
    float *ref_p = n_loss == STEPS ? read_params("ref.ckpt", &n_ref) : NULL;
    const double ref_val0 = read_val0("ref.jsonl");
    t_check(ref_p != NULL, "reference run, one process: exit %d, %d losses (%.6f .. %.6f), %zu parameters", st, n_loss,
            ref_loss[0], ref_loss[STEPS - 1], n_ref);
    if (!ref_p) return t_finish("test_dist");

    // every strategy at world sizes 2 and 3
    const char *strategies[] = {"ddp", "fsdp-full", "fsdp-grad-op"};
    for (int s = 0; s < 3; s++)
        for (int np = 2; np <= 3; np++) {
            char what[96], log[64], ckpt[64];
            snprintf(what, sizeof what, "%s at world size %d", strategies[s], np);
            snprintf(log, sizeof log, "%s-%d.jsonl", strategies[s], np);
            snprintf(ckpt, sizeof ckpt, "%s-%d.ckpt", strategies[s], np);
            st = sh("run.out", NULL, "%s -np %d %s %s --strategy %s --log-file %s/%s --save %s/%s --out %s/%s.rec",
                    launch, np, slm, RUN, strategies[s], dir, log, dir, ckpt, dir, log);
            compare(what, st, log, ckpt, ref_loss, ref_val0, ref_p, n_ref, 0);
            char rec[80];
            snprintf(rec, sizeof rec, "%s.rec", log);
            check_plan(what, rec, (slm_strategy_kind)(s + 1), np);
        }
    st = sh("run.out", NULL,
            "%s -np 2 %s %s --strategy ddp --overlap off --log-file %s/ddp-off.jsonl --save %s/ddp-off.ckpt", launch,
            slm, RUN, dir, dir);
    compare("ddp at world size 2, overlap off", st, "ddp-off.jsonl", "ddp-off.ckpt", ref_loss, ref_val0, ref_p, n_ref,
            0);
    st = sh("run.out", NULL,
            "%s -np 3 %s %s --strategy fsdp-full --overlap off --log-file %s/fsdp-off.jsonl --save %s/fsdp-off.ckpt",
            launch, slm, RUN, dir, dir);
    compare("fsdp-full at world size 3, overlap off", st, "fsdp-off.jsonl", "fsdp-off.ckpt", ref_loss, ref_val0, ref_p,
            n_ref, 0);
    st = sh("run.out", NULL,
            "OMP_NUM_THREADS=1 %s %s --strategy fsdp-full --log-file %s/fsdp-1.jsonl --save %s/fsdp-1.ckpt", slm, RUN,
            dir, dir);
    compare("fsdp-full in one process (world size 1)", st, "fsdp-1.jsonl", "fsdp-1.ckpt", ref_loss, ref_val0, ref_p,
            n_ref, 0);

    // other shapes, each against its own one-process run: a head tied to the
    // embedding (FSDP holds the embedding twice in a step), one block, and 70
    // blocks (DDP has 72 buckets in flight at once)
    variant("tied head", "--tie-embeddings", "fsdp-full", 3, "fsdp-grad-op", 2);
    variant("one block", "--n-layers 1", "fsdp-full", 3, "ddp", 2);
    variant("70 blocks", "--n-layers 70 --d-model 32 --n-heads 2 --n-kv-heads 1 --ffn-dim 64", "ddp", 2, "fsdp-full",
            3);

    // an FSDP checkpoint at world size 2, step 3: the same parameters as one process's; resumed at 3 and at 1
    st = sh("ref3.out", NULL, "OMP_NUM_THREADS=1 %s %s --run-steps 3 --save %s/ref3.ckpt", slm, RUN, dir);
    int st2 = sh("shard.out", NULL, "%s -np 2 %s %s --strategy fsdp-full --run-steps 3 --save %s/sharded.ckpt", launch,
                 slm, RUN, dir);
    int st3 = sh("ls.out", NULL, "ls %s/sharded.ckpt.step3.*.rank0-of-2 %s/sharded.ckpt.step3.*.rank1-of-2", dir, dir);
    t_check(
        st == 0 && st2 == 0 && st3 == 0 && contains("sharded.ckpt", "rank1-of-2\"]"),
        "fsdp-full at world size 2 saved step 3 as a manifest and one shard per rank (PATH.step3.<id>.rank<r>-of-2)");
    size_t n3 = 0, n_sh = 0;
    float *p3 = read_params("ref3.ckpt", &n3), *p_sh = read_params("sharded.ckpt", &n_sh);
    if (p3 && p_sh) {
        double e = n3 == n_sh ? t_max_rel_err(p_sh, p3, n3, 0.0) : INFINITY;
        t_check(e <= TOL, "sharded checkpoint reassembled in one process: parameters at step 3 max rel err %.1e", e);
    }
    free(p3);
    free(p_sh);
    st = sh("resume3.out", NULL,
            "%s -np 3 %s %s --strategy fsdp-full --resume %s/sharded.ckpt --log-file %s/resumed0.jsonl "
            "--save %s/resumed3.ckpt",
            launch, slm, RUN, dir, dir, dir);
    compare("world-size-2 fsdp checkpoint resumed at world size 3", st, "resumed0.jsonl", "resumed3.ckpt", ref_loss,
            ref_val0, ref_p, n_ref, 3);
    st = sh("resume1.out", NULL,
            "OMP_NUM_THREADS=1 %s %s --resume %s/sharded.ckpt --log-file %s/resumed1.jsonl "
            "--save %s/resumed1.ckpt",
            slm, RUN, dir, dir, dir);
    compare("world-size-2 fsdp checkpoint resumed in one process", st, "resumed1.jsonl", "resumed1.ckpt", ref_loss,
            ref_val0, ref_p, n_ref, 3);

    // a token file: a checkpoint of one process resumes at world size 2, each
    // rank at the same share of its shard of the data
    uint32_t *tok = malloc(20000 * sizeof *tok);
    uint64_t rs = 5;
    for (int i = 0; i < 20000; i++) tok[i] = (uint32_t)(t_rand_u64(&rs) % 512);
    slm_err err;
    char data[4096];
    snprintf(data, sizeof data, "%s/data.tok", dir);
    t_check(slm_tokfile_write(data, tok, 20000, 512, &err) == 0, "a token file of 20000 tokens");
    free(tok);
    st =
        sh("tok1.out", NULL, "OMP_NUM_THREADS=1 %s %s --data %s --run-steps 3 --save %s/tok.ckpt", slm, RUN, data, dir);
    st2 = sh("tok2.out", NULL, "%s -np 2 %s %s --strategy ddp --data %s --resume %s/tok.ckpt", launch, slm, RUN, data,
             dir);
    t_check(st == 0 && st2 == 0 && contains("tok2.out", "split over 1 ranks, this run's over 2"),
            "token data: a one-process checkpoint at step 3 resumes under ddp at world size 2 (exit %d, %d)", st, st2);

    // a rank that fails ends the job, with its message, within seconds
    double secs;
    st = sh("missing.out", &secs, "%s -np 1 %s %s --strategy ddp : -np 1 %s %s --strategy ddp --data %s/missing.tok",
            launch, slm, RUN, slm, RUN, dir);
    t_check(st != 0 && st != 124 && secs < 30 && contains("missing.out", "rank 1") &&
                contains("missing.out", "missing.tok"),
            "rank 1 without its data file: the job ends in %.1f s, exit %d, naming rank 1 and the file", secs, st);
    st = sh("badflag.out", &secs, "%s -np 1 %s %s --strategy ddp : -np 1 %s %s --strategy ddp --micro-batch 0", launch,
            slm, RUN, slm, RUN);
    t_check(st != 0 && st != 124 && secs < 30 && contains("badflag.out", "--micro-batch must be positive"),
            "rank 1 with a bad flag: the job ends in %.1f s, exit %d, with its message", secs, st);

    free(ref_p);
    return t_finish("test_dist");
}
