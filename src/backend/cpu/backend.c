// backend.c — the CPU backend: host memory (64-byte aligned) and its two op
// tables, fp32 and bf16 (the same ops, cpu.h), and when bf16 may run.
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/cpu/cpu.h"
#include "core/err.h"

static const slm_ops cpu_ops = {
    .embedding_fwd = cpu_embedding_fwd,
    .embedding_bwd = cpu_embedding_bwd,
    .rmsnorm_fwd = cpu_rmsnorm_fwd,
    .rmsnorm_bwd = cpu_rmsnorm_bwd,
    .matmul_fwd = cpu_matmul_fwd,
    .matmul_bwd = cpu_matmul_bwd,
    .rope_fwd = cpu_rope_fwd,
    .rope_bwd = cpu_rope_bwd,
    .attention_vanilla_fwd = cpu_attention_vanilla_fwd,
    .attention_vanilla_bwd = cpu_attention_vanilla_bwd,
    .attention_flash_fwd = cpu_attention_flash_fwd,
    .attention_flash_bwd = cpu_attention_flash_bwd,
    .swiglu_fwd = cpu_swiglu_fwd,
    .swiglu_bwd = cpu_swiglu_bwd,
    .xent_fwd_bwd = cpu_xent_fwd_bwd,
    .adamw = cpu_adamw,
    .to_compute = cpu_to_compute,
    .sumsq = cpu_sumsq,
    .scale = cpu_scale,
    .axpy = cpu_axpy,
};

static const slm_ops cpu_bf16_ops = {
    .embedding_fwd = cpu_embedding_fwd_bf16,
    .embedding_bwd = cpu_embedding_bwd_bf16,
    .rmsnorm_fwd = cpu_rmsnorm_fwd_bf16,
    .rmsnorm_bwd = cpu_rmsnorm_bwd_bf16,
    .matmul_fwd = cpu_matmul_fwd_bf16,
    .matmul_bwd = cpu_matmul_bwd_bf16,
    .rope_fwd = cpu_rope_fwd_bf16,
    .rope_bwd = cpu_rope_bwd_bf16,
    .attention_vanilla_fwd = cpu_attention_vanilla_fwd_bf16,
    .attention_vanilla_bwd = cpu_attention_vanilla_bwd_bf16,
    .attention_flash_fwd = cpu_attention_flash_fwd_bf16,
    .attention_flash_bwd = cpu_attention_flash_bwd_bf16,
    .swiglu_fwd = cpu_swiglu_fwd_bf16,
    .swiglu_bwd = cpu_swiglu_bwd_bf16,
    .xent_fwd_bwd = cpu_xent_fwd_bwd_bf16,
    .adamw = cpu_adamw_bf16,
    .to_compute = cpu_to_compute_bf16,
    .sumsq = cpu_sumsq,
    .scale = cpu_scale,
    .axpy = cpu_axpy,
};

static void *cpu_raw_alloc(size_t bytes) { return aligned_alloc(64, (bytes + 63) / 64 * 64); }
static void cpu_raw_free(void *p) { free(p); }
static void cpu_zero(void *p, size_t bytes) { memset(p, 0, bytes); }
static void cpu_copy(void *dst, const void *src, size_t bytes) { memcpy(dst, src, bytes); }
static void cpu_sync(void) {}
static size_t cpu_device_peak_bytes(void) { return 0; }  // host memory: the tracker counts all of it

// "AMD EPYC (2 threads)": the CPU model from /proc/cpuinfo and the OpenMP
// threads; in bf16 also what runs the GEMMs ("…, bf16: oneDNN brg:avx512_core_bf16").
static void cpu_describe(char *out, size_t len, slm_dtype compute) {
    char model[96] = "unknown CPU", line[256];
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) != 0 || !colon) continue;
        colon++;
        while (*colon == ' ' || *colon == '\t') colon++;
        colon[strcspn(colon, "\n")] = 0;
        snprintf(model, sizeof model, "%s", colon);
        break;
    }
    if (f) fclose(f);
    if (compute == SLM_BF16)
        snprintf(out, len, "%s (%d threads, bf16: %s)", model, omp_get_max_threads(), cpu_gemm_bf16_impl());
    else
        snprintf(out, len, "%s (%d threads)", model, omp_get_max_threads());
}

static slm_backend *cpu_open(slm_dtype compute) {
    slm_backend *be = slm_xcalloc(1, sizeof *be);
    cpu_gemm_acquire();
    be->name = "cpu";
    be->ops = compute == SLM_BF16 ? &cpu_bf16_ops : &cpu_ops;
    be->compute = compute;
    be->raw_alloc = cpu_raw_alloc;
    be->raw_free = cpu_raw_free;
    be->zero = cpu_zero;
    be->copy = cpu_copy;
    be->to_device = cpu_copy;
    be->to_host = cpu_copy;
    be->sync = cpu_sync;
    be->gemm_flops_per_s = compute == SLM_BF16 ? cpu_gemm_flops_per_s_bf16 : cpu_gemm_flops_per_s;
    be->gemm_library = compute == SLM_BF16 ? cpu_gemm_bf16_impl : cpu_gemm_library;
    be->device_peak_bytes = cpu_device_peak_bytes;
    cpu_describe(be->device, sizeof be->device, compute);
    // Host memory is the device memory: a run that would not fit ends as an
    // OOM result, not as the kernel's OOM killer ending the process.
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0) be->mem.capacity = (size_t)pages * (size_t)page;
    return be;
}

slm_backend *slm_backend_cpu(void) { return cpu_open(SLM_F32); }
slm_backend *slm_backend_cpu_bf16(void) { return cpu_open(SLM_BF16); }

// clang before 16 does not know "amx-bf16" in __builtin_cpu_supports (every
// CPU with AMX-BF16 so far has AVX512-BF16 too).
#if defined(__clang__) && __clang_major__ < 16
#define CPU_HAS_AMX_BF16() 0
#else
#define CPU_HAS_AMX_BF16() __builtin_cpu_supports("amx-bf16")
#endif

int slm_cpu_bf16_native(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bf16") || CPU_HAS_AMX_BF16();
}

const char *slm_cpu_bf16_refusal(void) {
    if (slm_cpu_bf16_native()) return NULL;
    const char *env = getenv("SLM_ALLOW_EMULATED_BF16");
    if (env && strcmp(env, "1") == 0) return NULL;
    return "this CPU has neither AVX512-BF16 nor AMX, so bf16 would be slower than fp32: use --dtype fp32 (or "
           "--allow-emulated-bf16 to check the bf16 numerics, slowly)";
}

void slm_backend_destroy(slm_backend *be) {
    if (!be) return;
    slm_mem_free_all(be);
    if (be->raw_alloc == cpu_raw_alloc) cpu_gemm_release();
    free(be);
}
