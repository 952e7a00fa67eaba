// cpu.h — the CPU backend's op implementations (fp32, OpenMP, CBLAS), one
// family per file; backend.c gathers them into the op table. The compute
// dtype is fp32: each op casts its void * tensors to float * at its top.
// defines: every function named in slm_ops, prefixed cpu_, and the GEMM peak
// measurement of slm_backend (peak.c).
#pragma once
#include <stddef.h>

void cpu_embedding_fwd(void *out, const void *wte, const int *tok, int N, int C);
void cpu_embedding_bwd(float *dwte, const void *dout, const int *tok, int N, int C);
void cpu_rmsnorm_fwd(void *out, float *rstd, const void *x, const void *w, int N, int C, float eps);
void cpu_rmsnorm_bwd(void *dx, float *dw, const void *dout, const void *x, const void *w, const float *rstd, int N,
                     int C);
void cpu_matmul_fwd(void *out, const void *in, const void *w, int N, int IC, int OC, int accumulate);
void cpu_matmul_bwd(void *din, float *dw, const void *dout, const void *in, const void *w, int N, int IC, int OC,
                    int accumulate_din);
void cpu_rope_fwd(void *x, const float *cos, const float *sin, int B, int T, int nh, int hd);
void cpu_rope_bwd(void *dx, const float *cos, const float *sin, int B, int T, int nh, int hd);
void cpu_attention_vanilla_fwd(void *out, void *saved, void *scratch, const void *q, const void *k, const void *v,
                               int B, int T, int H, int KVH, int hd);
void cpu_attention_vanilla_bwd(void *dq, void *dk, void *dv, void *scratch, const void *dout, const void *out,
                               const void *saved, const void *q, const void *k, const void *v, int B, int T, int H,
                               int KVH, int hd);
void cpu_attention_flash_fwd(void *out, void *saved, void *scratch, const void *q, const void *k, const void *v, int B,
                             int T, int H, int KVH, int hd);
void cpu_attention_flash_bwd(void *dq, void *dk, void *dv, void *scratch, const void *dout, const void *out,
                             const void *saved, const void *q, const void *k, const void *v, int B, int T, int H,
                             int KVH, int hd);
void cpu_swiglu_fwd(void *h, const void *g, const void *u, size_t n);
void cpu_swiglu_bwd(void *dg, void *du, const void *dh, const void *g, const void *u, size_t n);
void cpu_xent_fwd_bwd(float *losses, void *logits, const int *targets, int N, int V, float dscale);
void cpu_adamw(float *p, const float *g, float *m, float *v, void *p_compute, size_t n, float lr, float beta1,
               float beta2, float eps, float weight_decay, int t);
void cpu_to_compute(void *dst, const float *src, size_t n);
double cpu_sumsq(const float *x, size_t n);
void cpu_scale(float *x, size_t n, float s);
void cpu_axpy(float *y, const float *x, size_t n, float a);
double cpu_gemm_flops_per_s(int n, int reps);
const char *cpu_gemm_library(void);
