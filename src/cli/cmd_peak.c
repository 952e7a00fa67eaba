// cmd_peak.c — `slm peak`: measures this machine's GEMM peak (square n×n×n:
// fp32 SGEMM through the BLAS the CPU backend uses on every OpenMP thread, or
// bf16 through cuBLASLt on the GPU with --backend cuda), prints it and caches
// it (core/peak.h) under the device string, which names the CPU model and the
// thread count, or the GPU. train and bench report MFU against it on the CPU,
// and on a GPU that data/hardware.json does not list.
// A peak is the best the machine did: a run slower than the cached figure of
// the same library (the machine was busier) keeps the cached one, unless
// --replace says to store it anyway.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/backend.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "core/err.h"
#include "core/peak.h"

typedef struct {
    int n, reps, show, replace, allow_emulated_bf16;
    const char *dtype, *backend;  // dtype: as given, then (check_options) the dtype's name, the peak cache's key
    slm_backend_kind kind;
} peak_options;

// The flags into o.
static void parse_options(int argc, char **argv, peak_options *o) {
    *o = (peak_options){.n = 4096, .reps = 5};
    slm_flag flags[] = {
        {"--size", FLAG_INT, &o->n, "n of the n×n×n SGEMM [4096]"},
        {"--reps", FLAG_INT, &o->reps, "timed repetitions after one warm-up; the best counts [5]"},
        {"--dtype", FLAG_STR, &o->dtype,
         "fp32|bf16 on cpu (bf16 needs AVX512-BF16 or AMX), bf16 on cuda [the backend's default]"},
        {"--allow-emulated-bf16", FLAG_BOOL, &o->allow_emulated_bf16,
         "measure bf16 on a CPU without bf16 instructions (the emulation: a figure to compare, not a peak to use)"},
        {"--backend", FLAG_STR, &o->backend, "cpu|cuda [cuda when a GPU is present, else cpu]"},
        {"--show", FLAG_BOOL, &o->show, "print the cached peak of this machine and thread count; measure nothing"},
        {"--replace", FLAG_BOOL, &o->replace, "cache this measurement even when below the cached peak"},
    };
    slm_flags_parse(flags, sizeof flags / sizeof flags[0], argc, argv, "slm peak [flags]",
                    "Measures this machine's GEMM peak: square fp32 SGEMMs through the BLAS in use, on every\n"
                    "thread (OMP_NUM_THREADS, default all cores), with --dtype bf16 square bf16 GEMMs through\n"
                    "oneDNN's matmul (fp32 accumulation), or with --backend cuda square bf16 GEMMs through\n"
                    "cuBLASLt on the GPU; the best of --reps after a warm-up. Prints it and caches it in\n"
                    "peak.json under $SLM_CACHE_DIR (else $XDG_CACHE_HOME/slm, else ~/.cache/slm), keyed by\n"
                    "CPU model, thread count and dtype, or GPU; a figure below the cached\n"
                    "one of the same library (a busier machine) leaves the cache as it was, unless --replace.\n"
                    "`slm train` and `slm bench` report MFU against it on the CPU (on a GPU, against the datasheet\n"
                    "peak of data/hardware.json when it lists the GPU); without a peak, MFU is null.\n"
                    "example: OMP_NUM_THREADS=2 slm peak");
}

// The backend (o->kind) and the dtype (o->dtype, its name) of the flags, and the usage errors of the flags.
static void check_options(peak_options *o) {
    o->kind = SLM_BACKEND_CPU;
    if (!o->backend)
        o->kind = slm_backend_default();
    else if (slm_backend_kind_parse(o->backend, &o->kind))
        slm_die(SLM_EXIT_USAGE, "--backend %s is not a backend (expected cpu or cuda)", o->backend);
    slm_dtype dt = slm_backend_default_dtype(o->kind);
    if (o->dtype && (slm_dtype_parse(o->dtype, &dt) || dt == SLM_F64))
        slm_die(SLM_EXIT_USAGE, "--dtype %s is not a dtype (expected fp32 or bf16)", o->dtype);
    o->dtype = slm_dtype_name(dt);  // the peak cache's key
    // a GEMM peak in the dtype the backend's matmuls use: its own rule, in words for the GEMMs
    if (o->kind == SLM_BACKEND_CUDA && dt != SLM_BF16)
        slm_die(SLM_EXIT_USAGE, "--dtype %s on cuda: the CUDA backend's GEMMs are bf16 (expected --dtype bf16)",
                o->dtype);
    if (o->allow_emulated_bf16) setenv("SLM_ALLOW_EMULATED_BF16", "1", 1);
    if (o->kind == SLM_BACKEND_CPU && dt == SLM_BF16 && slm_cpu_bf16_refusal())
        slm_die(SLM_EXIT_USAGE, "--dtype bf16: %s", slm_cpu_bf16_refusal());
    if (o->n < 16 || o->n > 16384) slm_die(SLM_EXIT_USAGE, "--size %d is out of range (expected 16 to 16384)", o->n);
    if (o->reps < 1 || o->reps > 1000)
        slm_die(SLM_EXIT_USAGE, "--reps %d is out of range (expected 1 to 1000)", o->reps);
}

// --show: prints the cached peak of the device, or says on stderr that there is none; returns the exit code.
static int show_cached(const slm_backend *be, const char *dtype, const char *path) {
    slm_peak p;
    int found = slm_peak_lookup(be->device, dtype, &p) == 0;
    if (found)
        printf("%s peak of %s: %.1f GFLOP/s (%s, %s), from %s\n", dtype, be->device, p.flops_per_s / 1e9, p.method,
               p.date, path);
    else
        fprintf(stderr, "slm: no %s peak of %s in %s (run `slm peak` with the same OMP_NUM_THREADS)\n", dtype,
                be->device, path);
    return found ? SLM_EXIT_OK : SLM_EXIT_FAIL;
}

// Measures the GEMM peak into p (the figure, the method and the date), saying so before and after.
static void measure(const slm_backend *be, const char *dtype, int n, int reps, slm_peak *p) {
    printf("measuring %s GEMM peak on %s: %dx%dx%d, best of %d after a warm-up ...\n", dtype, be->device, n, n, n,
           reps);
    fflush(stdout);
    p->flops_per_s = be->gemm_flops_per_s(n, reps);
    snprintf(p->method, sizeof p->method, "%s, n=%d, best of %d", be->gemm_library(), n, reps);
    time_t now = time(NULL);
    strftime(p->date, sizeof p->date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    printf("%s peak: %.1f GFLOP/s (%s)\n", dtype, p->flops_per_s / 1e9, p->method);
}

// Whether the cache keeps its figure instead of p: a higher one of the same library (said so); never with --replace.
static int keeps_cached(const slm_backend *be, const char *dtype, const slm_peak *p, int replace) {
    slm_peak cached;
    const char *lib = be->gemm_library();
    if (!replace && slm_peak_lookup(be->device, dtype, &cached) == 0 && cached.flops_per_s > p->flops_per_s &&
        !strncmp(cached.method, lib, strlen(lib))) {
        printf("kept the cached %.1f GFLOP/s (%s, %s): this run was slower (a busier machine?); --replace stores it\n",
               cached.flops_per_s / 1e9, cached.method, cached.date);
        return 1;
    }
    return 0;
}

// Stores p in the peak cache at path, saying where or why not; returns the exit code.
static int store(const slm_backend *be, const char *dtype, const slm_peak *p, const char *path) {
    slm_err err;
    int failed = slm_peak_store(be->device, dtype, p, &err);
    if (failed)
        fprintf(stderr, "slm: %s\n", err.msg);
    else
        printf("cached in %s for \"%s\"\n", path, be->device);
    return failed ? SLM_EXIT_FAIL : SLM_EXIT_OK;
}

int slm_cmd_peak(int argc, char **argv) {
    peak_options o;
    parse_options(argc, argv, &o);
    check_options(&o);
    slm_err err;
    slm_dtype dt = SLM_F32;
    slm_dtype_parse(o.dtype, &dt);
    slm_backend *be = slm_backend_open(o.kind, dt, &err);
    if (!be) slm_die(SLM_EXIT_FAIL, "%s", err.msg);
    char path[4096];
    slm_peak_cache_path(path, sizeof path);
    int code;
    if (o.show) {
        code = show_cached(be, o.dtype, path);
    } else {
        slm_peak p;
        measure(be, o.dtype, o.n, o.reps, &p);
        code = keeps_cached(be, o.dtype, &p, o.replace) ? SLM_EXIT_OK : store(be, o.dtype, &p, path);
    }
    slm_backend_destroy(be);
    return code;
}
