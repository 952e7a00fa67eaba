// cpu.h — the CPU backend's op implementations (OpenMP; GEMMs through
// gemm.c), one family per file; backend.c gathers them into two op tables,
// one per compute dtype. Each op is written once, over cpu_ld / cpu_st, and
// exported twice: cpu_X for fp32 tensors and cpu_X_bf16 for bf16 ones (the
// bf16 version's arithmetic is fp32; only loads and stores differ). Ops that
// need no compute-dtype tensor (adamw's fp32 part, sumsq, scale, axpy) exist once.
// The parallel region is opened by each exported version and the generic body
// shares its loops with orphaned `omp for`: OpenMP outlines a parallel region
// where it stands, so a region inside the generic body would be compiled once,
// with `bf` a run-time value in its loops.
// defines: every function named in slm_ops, prefixed cpu_ (and _bf16), the
// GEMM of either dtype (gemm.c) and the GEMM peak of slm_backend (peak.c).
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "backend/bf16.h"
#include "core/dtype.h"

// Element i of a compute-dtype tensor, as fp32; `bf` is a constant in each
// exported version of an op (0 fp32, 1 bf16), so each gets its own loops.
static inline float cpu_ld(const void *p, size_t i, int bf) {
    return bf ? slm_f32_from_bf16(((const uint16_t *)p)[i]) : ((const float *)p)[i];
}
static inline void cpu_st(void *p, size_t i, float x, int bf) {
    if (bf)
        ((uint16_t *)p)[i] = slm_bf16_from_f32(x);
    else
        ((float *)p)[i] = x;
}

// C[M,N] = alpha·op(A)·op(B) + beta·C, row-major with leading dimensions;
// op(X) = Xᵀ when tX. A and B of dtype ab, C of c (fp32 operands: fp32 C; bf16
// operands: C bf16 or fp32, beta 0 or 1). Safe to call from OpenMP threads.
void cpu_gemm(slm_dtype ab, slm_dtype c, int ta, int tb, int M, int N, int K, float alpha, const void *A, int lda,
              const void *B, int ldb, float beta, void *C, int ldc);
// The bf16 GEMMs' state (oneDNN engine, primitives, scratchpads), shared by
// the CPU backends alive: acquired by each, freed with the last.
void cpu_gemm_acquire(void);
void cpu_gemm_release(void);
// What runs the bf16 GEMMs: "oneDNN brg:avx512_core_bf16", …, or the emulation.
const char *cpu_gemm_bf16_impl(void);

void cpu_embedding_fwd(void *out, const void *wte, const int *tok, int N, int C);
void cpu_embedding_fwd_bf16(void *out, const void *wte, const int *tok, int N, int C);
void cpu_embedding_bwd(float *dwte, const void *dout, const int *tok, int N, int C);
void cpu_embedding_bwd_bf16(float *dwte, const void *dout, const int *tok, int N, int C);
void cpu_rmsnorm_fwd(void *out, float *rstd, const void *x, const void *w, int N, int C, float eps);
void cpu_rmsnorm_fwd_bf16(void *out, float *rstd, const void *x, const void *w, int N, int C, float eps);
void cpu_rmsnorm_bwd(void *dx, float *dw, const void *dout, const void *x, const void *w, const float *rstd, int N,
                     int C);
void cpu_rmsnorm_bwd_bf16(void *dx, float *dw, const void *dout, const void *x, const void *w, const float *rstd, int N,
                          int C);
void cpu_matmul_fwd(void *out, const void *in, const void *w, int N, int IC, int OC, int accumulate);
void cpu_matmul_fwd_bf16(void *out, const void *in, const void *w, int N, int IC, int OC, int accumulate);
void cpu_matmul_bwd(void *din, float *dw, const void *dout, const void *in, const void *w, int N, int IC, int OC,
                    int accumulate_din);
void cpu_matmul_bwd_bf16(void *din, float *dw, const void *dout, const void *in, const void *w, int N, int IC, int OC,
                         int accumulate_din);
void cpu_rope_fwd(void *x, const float *cos, const float *sin, int B, int T, int nh, int hd);
void cpu_rope_fwd_bf16(void *x, const float *cos, const float *sin, int B, int T, int nh, int hd);
void cpu_rope_bwd(void *dx, const float *cos, const float *sin, int B, int T, int nh, int hd);
void cpu_rope_bwd_bf16(void *dx, const float *cos, const float *sin, int B, int T, int nh, int hd);
void cpu_attention_vanilla_fwd(void *out, void *saved, void *scratch, const void *q, const void *k, const void *v,
                               int B, int T, int H, int KVH, int hd);
void cpu_attention_vanilla_fwd_bf16(void *out, void *saved, void *scratch, const void *q, const void *k, const void *v,
                                    int B, int T, int H, int KVH, int hd);
void cpu_attention_vanilla_bwd(void *dq, void *dk, void *dv, void *scratch, const void *dout, const void *out,
                               const void *saved, const void *q, const void *k, const void *v, int B, int T, int H,
                               int KVH, int hd);
void cpu_attention_vanilla_bwd_bf16(void *dq, void *dk, void *dv, void *scratch, const void *dout, const void *out,
                                    const void *saved, const void *q, const void *k, const void *v, int B, int T, int H,
                                    int KVH, int hd);
void cpu_attention_flash_fwd(void *out, void *saved, void *scratch, const void *q, const void *k, const void *v, int B,
                             int T, int H, int KVH, int hd);
void cpu_attention_flash_fwd_bf16(void *out, void *saved, void *scratch, const void *q, const void *k, const void *v,
                                  int B, int T, int H, int KVH, int hd);
void cpu_attention_flash_bwd(void *dq, void *dk, void *dv, void *scratch, const void *dout, const void *out,
                             const void *saved, const void *q, const void *k, const void *v, int B, int T, int H,
                             int KVH, int hd);
void cpu_attention_flash_bwd_bf16(void *dq, void *dk, void *dv, void *scratch, const void *dout, const void *out,
                                  const void *saved, const void *q, const void *k, const void *v, int B, int T, int H,
                                  int KVH, int hd);
void cpu_swiglu_fwd(void *h, const void *g, const void *u, size_t n);
void cpu_swiglu_fwd_bf16(void *h, const void *g, const void *u, size_t n);
void cpu_swiglu_bwd(void *dg, void *du, const void *dh, const void *g, const void *u, size_t n);
void cpu_swiglu_bwd_bf16(void *dg, void *du, const void *dh, const void *g, const void *u, size_t n);
void cpu_xent_fwd_bwd(float *losses, void *logits, const int *targets, int N, int V, float dscale);
void cpu_xent_fwd_bwd_bf16(float *losses, void *logits, const int *targets, int N, int V, float dscale);
void cpu_adamw(float *p, const float *g, float *m, float *v, void *p_compute, size_t n, float lr, float beta1,
               float beta2, float eps, float weight_decay, int t);
void cpu_adamw_bf16(float *p, const float *g, float *m, float *v, void *p_compute, size_t n, float lr, float beta1,
                    float beta2, float eps, float weight_decay, int t);
void cpu_to_compute(void *dst, const float *src, size_t n);
void cpu_to_compute_bf16(void *dst, const float *src, size_t n);
double cpu_sumsq(const float *x, size_t n);
void cpu_scale(float *x, size_t n, float s);
void cpu_axpy(float *y, const float *x, size_t n, float a);
double cpu_gemm_flops_per_s(int n, int reps);
double cpu_gemm_flops_per_s_bf16(int n, int reps);
const char *cpu_gemm_library(void);
