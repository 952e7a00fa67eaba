// cuda.h — the CUDA backend's internals: its one compute stream, the cuBLASLt
// handle and workspace, the error check, and every op of slm_ops prefixed
// cuda_ (one family per .cu file, beside its CPU twin's name). Tensors of the
// compute dtype are bf16 (void * in the op table); gradients of parameters,
// optimizer state, norms' rstd and losses are fp32.
// The one decision to know: everything runs in order on one stream, so ops
// need no events between them; the host waits only in sync, to_host, sumsq
// and raw_free. The NCCL communicator orders its own stream against this one,
// which it is given as slm_backend's stream.
// defines: slm_cuda_stream, the CUDA_CHECK macro, the scratch pool, the
// cuBLASLt GEMM, the plan's GPU operations, and cuda_* op implementations.
#pragma once
#include <cuda_runtime_api.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/cuda/gemm_plan.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef __cplusplus  // core/err.h is C11 (_Noreturn): backend.c and open.c only
#include "core/err.h"
struct slm_backend;
// The CUDA backend on the current GPU (0, or the one slm_comm_nccl_device
// set); NULL with err filled ("no CUDA device: …") when the driver sees none.
struct slm_backend *slm_backend_cuda(slm_err *err);
#endif
// GPUs the driver sees; 0 when it sees none or there is no driver.
int cuda_device_count(void);

// The stream every op and every copy runs on (created by slm_backend_cuda).
cudaStream_t slm_cuda_stream(void);

// Dies with one line naming the CUDA call that failed and why.
void slm_cuda_fail(const char *call, const char *why, const char *file, int line);
#define CUDA_CHECK(call)                                                                      \
    do {                                                                                      \
        cudaError_t cuda_check_status_ = (call);                                              \
        if (cuda_check_status_ != cudaSuccess)                                                \
            slm_cuda_fail(#call, cudaGetErrorString(cuda_check_status_), __FILE__, __LINE__); \
    } while (0)
// After a kernel launch: a bad launch configuration fails here, not later.
#define CUDA_CHECK_LAUNCH() CUDA_CHECK(cudaGetLastError())

// Device scratch the ops use internally (partial sums, sort buffers): one
// grow-only buffer per slot, owned by the backend and counted in its device
// peak, never by the tracker (it is workspace of the op, not of the model).
enum { CUDA_SCRATCH_REDUCE, CUDA_SCRATCH_SORT, CUDA_SCRATCH_NSLOTS };
void *cuda_scratch(int slot, size_t bytes);
// Bytes the device had in use at its highest (cudaMemGetInfo at every
// allocation: the tracker's allocations, the backend's own buffers and the
// CUDA context alike), for the summary beside the tracker's peak.
size_t slm_cuda_device_peak_bytes(void);
// Called after every cudaMalloc the backend makes, to update that peak.
void cuda_note_device_use(void);

// One GEMM through cuBLASLt (gemm_plan.h says what the arguments mean), with
// bf16 A and B, bf16 or fp32 D, fp32 compute.
void cuda_gemm(const cuda_gemm_args *g);
// The plan's operations on the GPU: cuda_gemm, the softmax kernels, bf16.
extern const gemm_plan_ops cuda_plan_ops;
void cuda_gemm_init(void);
void cuda_gemm_destroy(void);
const char *cuda_gemm_library(void);
double cuda_gemm_flops_per_s(int n, int reps);

void cuda_embedding_fwd(void *out, const void *wte, const int *tok, int N, int C);
void cuda_embedding_bwd(float *dwte, const void *dout, const int *tok, int N, int C);
void cuda_rmsnorm_fwd(void *out, float *rstd, const void *x, const void *w, int N, int C, float eps);
void cuda_rmsnorm_bwd(void *dx, float *dw, const void *dout, const void *x, const void *w, const float *rstd, int N,
                      int C);
void cuda_matmul_fwd(void *out, const void *in, const void *w, int N, int IC, int OC, int accumulate);
void cuda_matmul_bwd(void *din, float *dw, const void *dout, const void *in, const void *w, int N, int IC, int OC,
                     int accumulate_din);
void cuda_rope_fwd(void *x, const float *cos, const float *sin, int B, int T, int nh, int hd);
void cuda_rope_bwd(void *dx, const float *cos, const float *sin, int B, int T, int nh, int hd);
void cuda_attention_vanilla_fwd(void *out, void *saved, void *scratch, const void *q, const void *k, const void *v,
                                int B, int T, int H, int KVH, int hd);
void cuda_attention_vanilla_bwd(void *dq, void *dk, void *dv, void *scratch, const void *dout, const void *out,
                                const void *saved, const void *q, const void *k, const void *v, int B, int T, int H,
                                int KVH, int hd);
void cuda_swiglu_fwd(void *h, const void *g, const void *u, size_t n);
void cuda_swiglu_bwd(void *dg, void *du, const void *dh, const void *g, const void *u, size_t n);
void cuda_xent_fwd_bwd(float *losses, void *logits, const int *targets, int N, int V, float dscale);
void cuda_adamw(float *p, const float *g, float *m, float *v, void *p_compute, size_t n, float lr, float beta1,
                float beta2, float eps, float weight_decay, int t);
double cuda_sumsq(const float *x, size_t n);
void cuda_scale(float *x, size_t n, float s);
void cuda_axpy(float *y, const float *x, size_t n, float a);
void cuda_to_compute(void *dst, const float *src, size_t n);

#ifdef __cplusplus
}
#endif
