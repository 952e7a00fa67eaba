// matmul.cu — every GEMM of the backend, through cuBLASLt: the projections
// (bf16 A and B, bf16 out, or the fp32 weight gradient accumulated in place),
// the batched GEMMs of vanilla attention, and `slm peak`'s bf16 GEMM rate.
// Compute is fp32 throughout (CUBLAS_COMPUTE_32F). Which GEMMs, with which
// transposes and leading dimensions: gemm_plan.h. The algorithm is cuBLASLt's first
// heuristic pick for the shape and the pointers' actual alignment; with one
// stream and our own workspace, cuBLAS gives bitwise the same result at every
// run on the same GPU model (its "results reproducibility" guarantee).
#include <cublasLt.h>
#include <stdio.h>

#include "backend/cuda/cuda.h"

enum { GEMM_WORKSPACE_BYTES = 32 << 20 };  // cuBLASLt's advice for Hopper

static cublasLtHandle_t lt;
static void *workspace;

#define CUBLAS_CHECK(call)                                                                           \
    do {                                                                                             \
        cublasStatus_t cublas_check_status_ = (call);                                                \
        if (cublas_check_status_ != CUBLAS_STATUS_SUCCESS)                                           \
            slm_cuda_fail(#call, cublasLtGetStatusString(cublas_check_status_), __FILE__, __LINE__); \
    } while (0)

void cuda_gemm_init(void) {
    CUBLAS_CHECK(cublasLtCreate(&lt));
    CUDA_CHECK(cudaMalloc(&workspace, GEMM_WORKSPACE_BYTES));
    cuda_note_device_use();
}

void cuda_gemm_destroy(void) {
    if (!lt) return;
    CUDA_CHECK(cudaFree(workspace));
    CUBLAS_CHECK(cublasLtDestroy(lt));
    lt = NULL;
    workspace = NULL;
}

// The largest power of two (up to 256) dividing the address: what the heuristic may assume.
static uint32_t alignment_of(const void *p) {
    uintptr_t a = (uintptr_t)p;
    uint32_t al = 256;
    while (al > 1 && a % al) al /= 2;
    return al;
}

static cublasLtMatrixLayout_t layout(cudaDataType_t type, int rows, int cols, int ld, int batch, long long stride) {
    cublasLtMatrixLayout_t l;
    CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&l, type, (uint64_t)rows, (uint64_t)cols, ld));
    if (batch > 1) {
        int32_t count = batch;
        int64_t offset = stride;
        CUBLAS_CHECK(cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count, sizeof count));
        CUBLAS_CHECK(
            cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &offset, sizeof offset));
    }
    return l;
}

void cuda_gemm(const cuda_gemm_args *g) {
    cublasLtMatmulDesc_t desc;
    CUBLAS_CHECK(cublasLtMatmulDescCreate(&desc, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    cublasOperation_t ta = g->trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, tb = g->trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
    CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta));
    CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb));
    // stored shapes: op(A) [m,k] is A [k,m] when transposed
    cublasLtMatrixLayout_t la =
        layout(CUDA_R_16BF, g->trans_a ? g->k : g->m, g->trans_a ? g->m : g->k, g->lda, g->batch, g->stride_a);
    cublasLtMatrixLayout_t lb =
        layout(CUDA_R_16BF, g->trans_b ? g->n : g->k, g->trans_b ? g->k : g->n, g->ldb, g->batch, g->stride_b);
    cublasLtMatrixLayout_t ld = layout(g->d_f32 ? CUDA_R_32F : CUDA_R_16BF, g->m, g->n, g->ldd, g->batch, g->stride_d);

    cublasLtMatmulPreference_t pref;
    CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref));
    uint64_t ws = GEMM_WORKSPACE_BYTES;
    uint32_t al_a = alignment_of(g->a), al_b = alignment_of(g->b), al_d = alignment_of(g->d);
    CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws));
    CUBLAS_CHECK(
        cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &al_a, sizeof al_a));
    CUBLAS_CHECK(
        cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &al_b, sizeof al_b));
    CUBLAS_CHECK(
        cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &al_d, sizeof al_d));
    CUBLAS_CHECK(
        cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &al_d, sizeof al_d));
    cublasLtMatmulHeuristicResult_t heur;
    int found = 0;
    CUBLAS_CHECK(cublasLtMatmulAlgoGetHeuristic(lt, desc, la, lb, ld, ld, pref, 1, &heur, &found));
    if (found == 0)
        slm_cuda_fail("cublasLtMatmulAlgoGetHeuristic", "no algorithm for this GEMM's shape and alignment", __FILE__,
                      __LINE__);
    CUBLAS_CHECK(cublasLtMatmul(lt, desc, &g->alpha, g->a, la, g->b, lb, &g->beta, g->d, ld, g->d, ld, &heur.algo,
                                workspace, GEMM_WORKSPACE_BYTES, slm_cuda_stream()));
    CUBLAS_CHECK(cublasLtMatmulPreferenceDestroy(pref));
    CUBLAS_CHECK(cublasLtMatrixLayoutDestroy(ld));
    CUBLAS_CHECK(cublasLtMatrixLayoutDestroy(lb));
    CUBLAS_CHECK(cublasLtMatrixLayoutDestroy(la));
    CUBLAS_CHECK(cublasLtMatmulDescDestroy(desc));
}

void cuda_matmul_fwd(void *out, const void *in, const void *w, int N, int IC, int OC, int accumulate) {
    plan_matmul_fwd(&cuda_plan_ops, out, in, w, N, IC, OC, accumulate);
}

void cuda_matmul_bwd(void *din, float *dw, const void *dout, const void *in, const void *w, int N, int IC, int OC,
                     int accumulate_din) {
    plan_matmul_bwd(&cuda_plan_ops, din, dw, dout, in, w, N, IC, OC, accumulate_din);
}

double cuda_gemm_flops_per_s(int n, int reps) {
    size_t nn = (size_t)n * n;
    void *a, *b, *c;
    CUDA_CHECK(cudaMalloc(&a, nn * 2));
    CUDA_CHECK(cudaMalloc(&b, nn * 2));
    CUDA_CHECK(cudaMalloc(&c, nn * 2));
    cuda_note_device_use();
    cudaStream_t s = slm_cuda_stream();
    CUDA_CHECK(cudaMemsetAsync(a, 0x3c, nn * 2, s));  // bf16 0x3c3c ≈ 0.0115: finite, nonzero inputs
    CUDA_CHECK(cudaMemsetAsync(b, 0x3c, nn * 2, s));
    cudaEvent_t t0, t1;
    CUDA_CHECK(cudaEventCreate(&t0));
    CUDA_CHECK(cudaEventCreate(&t1));
    double best = 0.0;
    for (int r = 0; r <= reps; r++) {  // r = 0 is the warm-up: the heuristic, the kernel's first load
        CUDA_CHECK(cudaEventRecord(t0, s));
        plan_matmul_fwd(&cuda_plan_ops, c, a, b, n, n, n, 0);  // c = a · bᵀ, as a projection
        CUDA_CHECK(cudaEventRecord(t1, s));
        CUDA_CHECK(cudaEventSynchronize(t1));
        float ms = 0.0f;
        CUDA_CHECK(cudaEventElapsedTime(&ms, t0, t1));
        double rate = 2.0 * n * (double)nn / (ms * 1e-3);
        if (r > 0 && rate > best) best = rate;
    }
    CUDA_CHECK(cudaEventDestroy(t0));
    CUDA_CHECK(cudaEventDestroy(t1));
    CUDA_CHECK(cudaFree(a));
    CUDA_CHECK(cudaFree(b));
    CUDA_CHECK(cudaFree(c));
    return best;
}

const char *cuda_gemm_library(void) {
    static char name[64];
    if (!name[0]) {
        size_t v = cublasLtGetVersion();  // major·10000 + minor·100 + patch
        snprintf(name, sizeof name, "cuBLASLt %zu.%zu.%zu", v / 10000, v / 100 % 100, v % 100);
    }
    return name;
}
