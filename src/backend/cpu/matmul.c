// matmul.c — projections, through cpu_gemm (OpenBLAS sgemm in fp32, oneDNN's
// bf16 matmul in bf16). Weights are [OC, IC] as in nn.Linear, so the forward
// multiplies by the transpose; no copies are made. In bf16, out and din are
// bf16 and dw, the fp32 parameter gradient, accumulates in fp32.
#include "backend/cpu/cpu.h"

static inline void matmul_fwd(void *out, const void *in, const void *w, int N, int IC, int OC, int accumulate,
                              slm_dtype t) {
    // out[N,OC] = in[N,IC] · w[OC,IC]ᵀ
    cpu_gemm(t, t, 0, 1, N, OC, IC, 1.0f, in, IC, w, IC, accumulate ? 1.0f : 0.0f, out, OC);
}

static inline void matmul_bwd(void *din, float *dw, const void *dout, const void *in, const void *w, int N, int IC,
                              int OC, int accumulate_din, slm_dtype t) {
    // din[N,IC] = dout[N,OC] · w[OC,IC]
    if (din) cpu_gemm(t, t, 0, 0, N, IC, OC, 1.0f, dout, OC, w, IC, accumulate_din ? 1.0f : 0.0f, din, IC);
    // dw[OC,IC] += dout[N,OC]ᵀ · in[N,IC]
    if (dw) cpu_gemm(t, SLM_F32, 1, 0, OC, IC, N, 1.0f, dout, OC, in, IC, 1.0f, dw, IC);
}

void cpu_matmul_fwd(void *out, const void *in, const void *w, int N, int IC, int OC, int accumulate) {
    matmul_fwd(out, in, w, N, IC, OC, accumulate, SLM_F32);
}
void cpu_matmul_fwd_bf16(void *out, const void *in, const void *w, int N, int IC, int OC, int accumulate) {
    matmul_fwd(out, in, w, N, IC, OC, accumulate, SLM_BF16);
}
void cpu_matmul_bwd(void *din, float *dw, const void *dout, const void *in, const void *w, int N, int IC, int OC,
                    int accumulate_din) {
    matmul_bwd(din, dw, dout, in, w, N, IC, OC, accumulate_din, SLM_F32);
}
void cpu_matmul_bwd_bf16(void *din, float *dw, const void *dout, const void *in, const void *w, int N, int IC, int OC,
                         int accumulate_din) {
    matmul_bwd(din, dw, dout, in, w, N, IC, OC, accumulate_din, SLM_BF16);
}
