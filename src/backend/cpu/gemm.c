// gemm.c — every GEMM of the CPU backend, in either compute dtype:
//   C[M,N] = alpha · op(A)[M,K] · op(B)[K,N] + beta · C      (row-major, leading dims)
// fp32 operands go to CBLAS sgemm. bf16 operands go to oneDNN's matmul
// primitive, which accumulates in fp32 and writes C in bf16 or fp32: the
// primitive of each (shape, layout, alpha, beta, C dtype) is created once and
// kept, and the operands are used where they lie (a transposed operand is a
// matrix with other strides, never a copy of ours). Where oneDNN has no bf16
// matmul for this CPU better than its reference code (an AVX2-only CPU), the
// emulation runs instead: operands widened to fp32, sgemm, C rounded — the
// same products (a bf16 product is exact in fp32), summed in another order.
//
// The primitives run in user scratchpad mode, each OpenMP thread with its own
// scratchpad, so the attention ops may call GEMMs from inside a parallel
// region (oneDNN then runs them on the calling thread alone).
#include <cblas.h>
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/bf16.h"
#include "backend/cpu/cpu.h"
#include "core/err.h"

enum { CACHE_CAP = 256, MAX_THREADS = 256 };

typedef struct {
    int ta, tb, M, N, K, lda, ldb, ldc, beta;
    float alpha;
    slm_dtype c;
} gemm_key;

typedef struct {
    gemm_key key;
    dnnl_primitive_t prim;
    dnnl_memory_desc_t a, b, c, scratch;
} gemm_entry;

static struct {
    int users;  // CPU backends alive: the cache is freed with the last
    dnnl_engine_t engine;
    int emulated;         // 1: oneDNN has no useful bf16 matmul here
    char impl[96];        // what runs the bf16 GEMMs
    gemm_entry *entries;  // CACHE_CAP of them
    int n;
    void *scratch[MAX_THREADS];  // per OpenMP thread: its scratchpad and its stream
    size_t scratch_bytes[MAX_THREADS];
    dnnl_stream_t stream[MAX_THREADS];
} G;

static void md_2d(dnnl_memory_desc_t *md, int rows, int cols, int ld, int transposed, dnnl_data_type_t t) {
    dnnl_dims_t dims = {rows, cols};
    dnnl_dims_t strides = {transposed ? 1 : ld, transposed ? ld : 1};
    dnnl_memory_desc_init_by_strides(md, 2, dims, t, strides);
}

// The primitive for key k into e; 0 when oneDNN has one, -1 when it has none.
static int create(const gemm_key *k, gemm_entry *e) {
    e->key = *k;
    md_2d(&e->a, k->M, k->K, k->lda, k->ta, dnnl_bf16);
    md_2d(&e->b, k->K, k->N, k->ldb, k->tb, dnnl_bf16);
    md_2d(&e->c, k->M, k->N, k->ldc, 0, k->c == SLM_BF16 ? dnnl_bf16 : dnnl_f32);
    dnnl_matmul_desc_t desc;
    dnnl_primitive_attr_t attr;
    dnnl_post_ops_t ops = NULL;
    dnnl_primitive_desc_t pd = NULL;
    if (dnnl_matmul_desc_init(&desc, &e->a, &e->b, NULL, &e->c) != dnnl_success) return -1;
    dnnl_primitive_attr_create(&attr);
    dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    if (k->alpha != 1.0f) dnnl_primitive_attr_set_output_scales(attr, 1, 0, &k->alpha);
    if (k->beta) {
        dnnl_post_ops_create(&ops);
        dnnl_post_ops_append_sum(ops, 1.0f);
        dnnl_primitive_attr_set_post_ops(attr, ops);
    }
    dnnl_status_t st = dnnl_primitive_desc_create(&pd, &desc, attr, G.engine, NULL);
    if (ops) dnnl_post_ops_destroy(ops);
    dnnl_primitive_attr_destroy(attr);
    if (st != dnnl_success) return -1;
    e->scratch = *dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    st = dnnl_primitive_create(&e->prim, pd);
    dnnl_primitive_desc_destroy(pd);
    return st == dnnl_success ? 0 : -1;
}

// The cached primitive of k (created on first use); NULL when the cache is full
// (then *tmp holds one to run and destroy).
static const gemm_entry *lookup(const gemm_key *k, gemm_entry *tmp) {
    const gemm_entry *found = NULL;
#pragma omp critical(slm_gemm_cache)
    {
        for (int i = 0; i < G.n && !found; i++)
            if (!memcmp(&G.entries[i].key, k, sizeof *k)) found = &G.entries[i];
        if (!found && G.n < CACHE_CAP && create(k, &G.entries[G.n]) == 0) found = &G.entries[G.n++];
    }
    if (!found && create(k, tmp) == 0) return tmp;
    return found;
}

static void *thread_scratch(int t, size_t bytes) {
    if (G.scratch_bytes[t] < bytes) {
        free(G.scratch[t]);
        G.scratch[t] = slm_xmalloc(bytes);
        G.scratch_bytes[t] = bytes;
    }
    return G.scratch[t];
}

static void run_dnnl(const gemm_entry *e, const void *A, const void *B, void *C) {
    int t = omp_get_thread_num();
    SLM_ASSERT(t < MAX_THREADS, "OpenMP thread %d past the %d GEMM scratchpads", t, MAX_THREADS);
    if (!G.stream[t]) dnnl_stream_create(&G.stream[t], G.engine, dnnl_stream_default_flags);
    dnnl_memory_t m[4];
    dnnl_memory_create(&m[0], &e->a, G.engine, (void *)A);
    dnnl_memory_create(&m[1], &e->b, G.engine, (void *)B);
    dnnl_memory_create(&m[2], &e->c, G.engine, C);
    dnnl_memory_create(&m[3], &e->scratch, G.engine, thread_scratch(t, dnnl_memory_desc_get_size(&e->scratch)));
    dnnl_exec_arg_t args[4] = {
        {DNNL_ARG_SRC, m[0]}, {DNNL_ARG_WEIGHTS, m[1]}, {DNNL_ARG_DST, m[2]}, {DNNL_ARG_SCRATCHPAD, m[3]}};
    dnnl_status_t st = dnnl_primitive_execute(e->prim, G.stream[t], 4, args);
    SLM_ASSERT(st == dnnl_success, "oneDNN matmul %dx%dx%d failed (status %d)", e->key.M, e->key.N, e->key.K, (int)st);
    dnnl_stream_wait(G.stream[t]);
    for (int i = 0; i < 4; i++) dnnl_memory_destroy(m[i]);
}

// A rows×cols bf16 matrix (leading dim ld) widened into a dense fp32 one.
static float *widen(const void *x, int rows, int cols, int ld) {
    float *out = slm_xmalloc((size_t)rows * cols * sizeof(float) + 1);
    const uint16_t *h = x;
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) out[(size_t)r * cols + c] = slm_f32_from_bf16(h[(size_t)r * ld + c]);
    return out;
}

// The emulation: widened operands, sgemm into fp32, C rounded where it is bf16.
static void run_emulated(const gemm_key *k, const void *A, const void *B, void *C) {
    int ar = k->ta ? k->K : k->M, ac = k->ta ? k->M : k->K;
    int br = k->tb ? k->N : k->K, bc = k->tb ? k->K : k->N;
    float *a = widen(A, ar, ac, k->lda), *b = widen(B, br, bc, k->ldb);
    float *c = k->c == SLM_F32 ? C : slm_xmalloc((size_t)k->M * k->N * sizeof(float) + 1);
    int ldc = k->c == SLM_F32 ? k->ldc : k->N;
    if (k->c == SLM_BF16 && k->beta)
        for (int r = 0; r < k->M; r++)
            for (int j = 0; j < k->N; j++)
                c[(size_t)r * k->N + j] = slm_f32_from_bf16(((uint16_t *)C)[(size_t)r * k->ldc + j]);
    cblas_sgemm(CblasRowMajor, k->ta ? CblasTrans : CblasNoTrans, k->tb ? CblasTrans : CblasNoTrans, k->M, k->N, k->K,
                k->alpha, a, ac, b, bc, k->beta ? 1.0f : 0.0f, c, ldc);
    if (k->c == SLM_BF16) {
        for (int r = 0; r < k->M; r++)
            for (int j = 0; j < k->N; j++)
                ((uint16_t *)C)[(size_t)r * k->ldc + j] = slm_bf16_from_f32(c[(size_t)r * k->N + j]);
        free(c);
    }
    free(a);
    free(b);
}

void cpu_gemm(slm_dtype ab, slm_dtype c_dtype, int ta, int tb, int M, int N, int K, float alpha, const void *A, int lda,
              const void *B, int ldb, float beta, void *C, int ldc) {
    if (M == 0 || N == 0) return;
    if (ab == SLM_F32) {
        cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, alpha, A,
                    lda, B, ldb, beta, C, ldc);
        return;
    }
    SLM_ASSERT(ab == SLM_BF16 && (beta == 0.0f || beta == 1.0f) && G.users > 0,
               "bf16 GEMM with beta %g (0 or 1) and %d CPU backends open", beta, G.users);
    gemm_key k = {ta, tb, M, N, K, lda, ldb, ldc, beta != 0.0f, alpha, c_dtype};
    gemm_entry tmp;
    const gemm_entry *e = G.emulated || K == 0 ? NULL : lookup(&k, &tmp);
    if (!e) {
        run_emulated(&k, A, B, C);
        return;
    }
    run_dnnl(e, A, B, C);
    if (e == &tmp) dnnl_primitive_destroy(tmp.prim);
}

// What oneDNN would run a bf16 projection with on this CPU: "brg:avx512_core_bf16",
// "brg:avx512_core_amx", …; a reference implementation counts as none.
static void probe(void) {
    gemm_key k = {0, 1, 256, 256, 256, 256, 256, 256, 0, 1.0f, SLM_BF16};
    gemm_entry e;
    const char *impl = NULL;
    G.emulated = 1;
    if (create(&k, &e) != 0) return;
    const_dnnl_primitive_desc_t pd;
    dnnl_primitive_get_primitive_desc(e.prim, &pd);
    dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
    if (impl && strncmp(impl, "ref", 3) != 0) {
        snprintf(G.impl, sizeof G.impl, "oneDNN %s", impl);
        G.emulated = 0;
    }
    dnnl_primitive_destroy(e.prim);
}

void cpu_gemm_acquire(void) {
    if (G.users++ > 0) return;
    dnnl_status_t st = dnnl_engine_create(&G.engine, dnnl_cpu, 0);
    SLM_ASSERT(st == dnnl_success, "oneDNN CPU engine not created (status %d)", (int)st);
    G.entries = slm_xcalloc(CACHE_CAP, sizeof *G.entries);
    probe();
    if (G.emulated) snprintf(G.impl, sizeof G.impl, "emulated: bf16 widened to fp32, OpenBLAS sgemm");
}

void cpu_gemm_release(void) {
    SLM_ASSERT(G.users > 0, "GEMM cache released more often than acquired");
    if (--G.users > 0) return;
    for (int i = 0; i < G.n; i++) dnnl_primitive_destroy(G.entries[i].prim);
    for (int t = 0; t < MAX_THREADS; t++) {
        free(G.scratch[t]);
        if (G.stream[t]) dnnl_stream_destroy(G.stream[t]);
    }
    free(G.entries);
    dnnl_engine_destroy(G.engine);
    memset(&G, 0, sizeof G);
}

const char *cpu_gemm_bf16_impl(void) { return G.impl; }
