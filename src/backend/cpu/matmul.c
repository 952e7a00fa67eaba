// matmul.c — projections through CBLAS sgemm. Weights are [OC, IC] as in
// nn.Linear, so the forward multiplies by the transpose; no copies are made.
#include <cblas.h>

#include "backend/cpu/cpu.h"

void cpu_matmul_fwd(void *out_, const void *in_, const void *w_, int N, int IC, int OC, int accumulate) {
    float *out = out_;
    const float *in = in_, *w = w_;
    // out[N,OC] = in[N,IC] · w[OC,IC]ᵀ
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, OC, IC, 1.0f, in, IC, w, IC, accumulate ? 1.0f : 0.0f, out,
                OC);
}

void cpu_matmul_bwd(void *din_, float *dw, const void *dout_, const void *in_, const void *w_, int N, int IC, int OC,
                    int accumulate_din) {
    float *din = din_;
    const float *dout = dout_, *in = in_, *w = w_;
    // din[N,IC] = dout[N,OC] · w[OC,IC]
    if (din)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, IC, OC, 1.0f, dout, OC, w, IC,
                    accumulate_din ? 1.0f : 0.0f, din, IC);
    // dw[OC,IC] += dout[N,OC]ᵀ · in[N,IC]
    if (dw) cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, IC, N, 1.0f, dout, OC, in, IC, 1.0f, dw, IC);
}
