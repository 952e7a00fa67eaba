// cpu.h — the CPU backend's op implementations (fp32, OpenMP, CBLAS), one
// family per file; backend.c gathers them into the op table.
// defines: every function named in slm_ops, prefixed cpu_, and the GEMM peak
// measurement of slm_backend (peak.c).
#pragma once
#include <stddef.h>

void cpu_embedding_fwd(float *out, const float *wte, const int *tok, int N, int C);
void cpu_embedding_bwd(float *dwte, const float *dout, const int *tok, int N, int C);
void cpu_rmsnorm_fwd(float *out, float *rstd, const float *x, const float *w, int N, int C, float eps);
void cpu_rmsnorm_bwd(float *dx, float *dw, const float *dout, const float *x, const float *w, const float *rstd,
                     int N, int C);
void cpu_matmul_fwd(float *out, const float *in, const float *w, int N, int IC, int OC, int accumulate);
void cpu_matmul_bwd(float *din, float *dw, const float *dout, const float *in, const float *w, int N, int IC, int OC,
                    int accumulate_din);
void cpu_rope_fwd(float *x, const float *cos, const float *sin, int B, int T, int nh, int hd);
void cpu_rope_bwd(float *dx, const float *cos, const float *sin, int B, int T, int nh, int hd);
void cpu_attention_vanilla_fwd(float *out, float *saved, float *scratch, const float *q, const float *k,
                               const float *v, int B, int T, int H, int KVH, int hd);
void cpu_attention_vanilla_bwd(float *dq, float *dk, float *dv, float *scratch, const float *dout, const float *out,
                               const float *saved, const float *q, const float *k, const float *v, int B, int T,
                               int H, int KVH, int hd);
void cpu_attention_flash_fwd(float *out, float *saved, float *scratch, const float *q, const float *k, const float *v,
                             int B, int T, int H, int KVH, int hd);
void cpu_attention_flash_bwd(float *dq, float *dk, float *dv, float *scratch, const float *dout, const float *out,
                             const float *saved, const float *q, const float *k, const float *v, int B, int T, int H,
                             int KVH, int hd);
void cpu_swiglu_fwd(float *h, const float *g, const float *u, size_t n);
void cpu_swiglu_bwd(float *dg, float *du, const float *dh, const float *g, const float *u, size_t n);
void cpu_xent_fwd_bwd(float *losses, float *logits, const int *targets, int N, int V, float dscale);
void cpu_adamw(float *p, const float *g, float *m, float *v, size_t n, float lr, float beta1, float beta2, float eps,
               float weight_decay, int t);
double cpu_sumsq(const float *x, size_t n);
void cpu_scale(float *x, size_t n, float s);
void cpu_axpy(float *y, const float *x, size_t n, float a);
double cpu_gemm_flops_per_s(int n, int reps);
const char *cpu_gemm_library(void);
