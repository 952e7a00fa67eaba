// backend.h — the op table every device kind implements, and the memory tracker.
//
// The model graph (src/model) calls only what is here, so a CUDA backend is a
// second table of the same functions. All pointers given to ops are device
// memory from slm_alloc. Conventions, as in llm.c:
//   - parameter gradients accumulate (+=), so gradient accumulation works;
//   - activation gradients are written (=) unless a flag says accumulate.
// Layouts are row-major; a weight is [out, in] as in PyTorch's nn.Linear, so a
// projection is out = in · Wᵀ. Activations are [N, C] with N = B·T tokens.
//
// Precision, the one decision to know: activations, their gradients and the
// weights an op reads are in the backend's compute dtype (`compute`: fp32 on
// the CPU, bf16 on CUDA), typed void *; parameter gradients, the fp32 master
// weights, AdamW state, rstd, losses, flash's log-sum-exp and the RoPE tables
// are fp32, typed float *. Ops accumulate in fp32 whatever they store.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "core/attention.h"
#include "core/backend_kind.h"
#include "core/config.h"
#include "core/dtype.h"
#include "core/err.h"
#include "core/mem_cat.h"

// Bytes attention keeps per layer for backward (`saved`) and the scratch it
// shares across layers, for B sequences of T tokens, H query heads of hd, in a
// compute dtype of elem_bytes.
// vanilla: probabilities B·H·T² saved, scores / their gradient B·H·T² scratch,
//          both in the compute dtype.
// flash:   log-sum-exp B·H·T saved, fp32. Scratch: none in fp32; in bf16
//          (CUDA's and the CPU's) an fp32 accumulator B·T·H·hd (dQ's in the
//          backward, on the CPU the output's in the forward too) and the row
//          sums of dO∘O B·H·T.
void slm_attention_sizes(slm_attention kind, int B, int T, int H, int hd, size_t elem_bytes, size_t *saved_bytes,
                         size_t *scratch_bytes);

typedef struct {
    size_t cur[SLM_MEM_NCAT];
    size_t peak[SLM_MEM_NCAT];     // each category's own peak
    size_t at_peak[SLM_MEM_NCAT];  // the split at the moment of the total peak
    size_t cur_total, peak_total;
    size_t limit;        // bytes; 0 = no limit (--mem-limit)
    size_t capacity;     // the device's memory; 0 = unknown. Past it, an allocation fails as OOM
    size_t oom_request;  // bytes asked by the allocation that failed, else 0
    slm_mem_cat oom_cat;
    int n_live, cap_live;  // live allocations, so slm_free knows sizes
    struct slm_live_alloc *live;
} slm_mem_tracker;

// q [B,T,H,hd], k and v [B,T,KVH,hd], out [B,T,H,hd]; causal; scale 1/sqrt(hd).
// saved: the probabilities [B,H,T,T] in the compute dtype (vanilla), the
// log-sum-exp [B,H,T] in fp32 (flash).
typedef void (*slm_attn_fwd_fn)(void *out, void *saved, void *scratch, const void *q, const void *k, const void *v,
                                int B, int T, int H, int KVH, int hd);
// Writes dq, dk, dv (=). Grouped heads sum into their shared kv head.
typedef void (*slm_attn_bwd_fn)(void *dq, void *dk, void *dv, void *scratch, const void *dout, const void *out,
                                const void *saved, const void *q, const void *k, const void *v, int B, int T, int H,
                                int KVH, int hd);

// void * is a tensor of the compute dtype, float * one of fp32 (see the top).
typedef struct {
    // out[n,:] = wte[tok[n],:]                                   out [N,C], wte [V,C]
    void (*embedding_fwd)(void *out, const void *wte, const int *tok, int N, int C);
    // dwte[tok[n],:] += dout[n,:]
    void (*embedding_bwd)(float *dwte, const void *dout, const int *tok, int N, int C);

    // out = x · rsqrt(mean(x²) + eps) · w; rstd [N] saved          x, out [N,C]
    void (*rmsnorm_fwd)(void *out, float *rstd, const void *x, const void *w, int N, int C, float eps);
    // dx += ∂/∂x, dw += ∂/∂w
    void (*rmsnorm_bwd)(void *dx, float *dw, const void *dout, const void *x, const void *w, const float *rstd, int N,
                        int C);

    // out [N,OC] (= or +=) in [N,IC] · w[OC,IC]ᵀ
    void (*matmul_fwd)(void *out, const void *in, const void *w, int N, int IC, int OC, int accumulate);
    // din [N,IC] (= or += when accumulate_din) dout · w;  dw += doutᵀ · in.  din or dw may be NULL.
    void (*matmul_bwd)(void *din, float *dw, const void *dout, const void *in, const void *w, int N, int IC, int OC,
                       int accumulate_din);

    // Rotary embedding in place, Hugging Face's rotate-half convention: pairs (i, i+hd/2)
    // rotated by position t·inv_freq[i]. x [B,T,nh,hd]; cos, sin [T_max, hd/2] (fp32).
    // rope_bwd applies the inverse rotation to a gradient.
    void (*rope_fwd)(void *x, const float *cos, const float *sin, int B, int T, int nh, int hd);
    void (*rope_bwd)(void *dx, const float *cos, const float *sin, int B, int T, int nh, int hd);

    slm_attn_fwd_fn attention_vanilla_fwd;
    slm_attn_bwd_fn attention_vanilla_bwd;
    slm_attn_fwd_fn attention_flash_fwd;  // NULL where not implemented
    slm_attn_bwd_fn attention_flash_bwd;

    // h = silu(g) · u                                              [n]
    void (*swiglu_fwd)(void *h, const void *g, const void *u, size_t n);
    // dg, du (=) from dh
    void (*swiglu_bwd)(void *dg, void *du, const void *dh, const void *g, const void *u, size_t n);

    // Fused softmax + cross-entropy. losses[n] = -log softmax(logits[n])[targets[n]].
    // When dscale != 0, logits are overwritten with dscale·(softmax − onehot): the
    // gradient of dscale·Σ losses, ready for the head's backward.        logits [N,V]
    void (*xent_fwd_bwd)(float *losses, void *logits, const int *targets, int N, int V, float dscale);

    // AdamW as torch.optim.AdamW on the fp32 master p: p -= lr·wd·p; m, v moments;
    // bias-corrected step t (1-based). When p_compute is not NULL, the updated p
    // is also written there in the compute dtype (the copy the ops read).
    void (*adamw)(float *p, const float *g, float *m, float *v, void *p_compute, size_t n, float lr, float beta1,
                  float beta2, float eps, float weight_decay, int t);
    // dst [n] = src in the compute dtype (refreshes the compute copy after an init or a load).
    void (*to_compute)(void *dst, const float *src, size_t n);
    // Σ x² (accumulated in double), returned to the host.
    double (*sumsq)(const float *x, size_t n);
    // x *= s
    void (*scale)(float *x, size_t n, float s);
    // y += a·x (a reduce-scattered gradient block into the owned gradients)
    void (*axpy)(float *y, const float *x, size_t n, float a);
} slm_ops;

typedef struct slm_backend {
    const char *name;  // "cpu", "cuda": slm_backend_names of its kind
    char device[128];  // what it runs on, for the record: CPU model and threads, or GPU name
    const slm_ops *ops;
    slm_dtype compute;  // activations and the weights the ops read: SLM_F32 (cpu), SLM_BF16 (cuda)
    slm_mem_tracker mem;
    // Raw device memory; use slm_alloc/slm_free, which track it.
    void *(*raw_alloc)(size_t bytes);
    void (*raw_free)(void *p);
    void (*zero)(void *p, size_t bytes);
    void (*copy)(void *dst, const void *src, size_t bytes);       // device to device
    void (*to_device)(void *dst, const void *src, size_t bytes);  // host to device
    void (*to_host)(void *dst, const void *src, size_t bytes);    // device to host
    void (*sync)(void);
    // `slm peak`: the best FLOP/s of reps square n×n×n fp32 GEMMs after a
    // warm-up, through the library the matmul op uses, named by gemm_library.
    double (*gemm_flops_per_s)(int n, int reps);
    const char *(*gemm_library)(void);
    // Bytes the device itself had in use at its highest, for the summary beside
    // the tracker's peak: on cuda all of the GPU's (the CUDA context and the
    // backend's own buffers included); 0 on cpu, where the tracker's figure is all.
    size_t (*device_peak_bytes)(void);
    // The stream every op and copy runs on, for collectives to order themselves
    // against (a cudaStream_t on cuda); NULL on cpu, which has none.
    void *stream;
} slm_backend;

// Tracked allocation. Returns NULL when the allocation would pass mem.limit
// or the device is out of memory; mem.oom_request then holds the bytes asked.
void *slm_alloc(slm_backend *be, size_t bytes, slm_mem_cat cat);
void slm_free(slm_backend *be, void *p);
void slm_mem_reset_peak(slm_backend *be);
// After slm_alloc returned NULL: "out of memory: 1.25 GiB of attention asked
// with 20.10 GiB in use, past the 23.40 GiB of --mem-limit" (or of the device).
int slm_mem_oom(const slm_backend *be, slm_err *err, const char *what);
// Frees every allocation still live (backend teardown).
void slm_mem_free_all(slm_backend *be);

// The CPU backend (OpenMP; OpenBLAS sgemm in fp32, oneDNN's matmul in bf16).
// Threads from OMP_NUM_THREADS. The bf16 one runs on any CPU (oneDNN's GEMMs,
// or their emulation where oneDNN has none): whether a run may use it is
// slm_cpu_bf16_refusal's question.
slm_backend *slm_backend_cpu(void);
slm_backend *slm_backend_cpu_bf16(void);
// 1 when this CPU has bf16 instructions (AVX512-BF16 or AMX-BF16), asked at run time.
int slm_cpu_bf16_native(void);
// Why a run may not compute in bf16 on this CPU, in words for a one-line
// error; NULL when it may: the CPU has bf16 instructions, or the environment
// says SLM_ALLOW_EMULATED_BF16=1 (what --allow-emulated-bf16 sets, so the
// ranks and sweep points a run starts inherit it).
const char *slm_cpu_bf16_refusal(void);
void slm_backend_destroy(slm_backend *be);

// The one rule for a run that names no backend: cuda when the CUDA driver
// sees a GPU, else cpu (also in a build without CUDA).
slm_backend_kind slm_backend_default(void);
// The compute dtype of a backend when the run names none: fp32 on cpu, bf16 on cuda.
slm_dtype slm_backend_default_dtype(slm_backend_kind kind);
// The backend's own rules for a run of compute dtype `dtype` with `attention`
// on `model`, checked where flags enter (after slm_run_config_validate), with
// no device needed: cuda computes in bf16 only and its flash kernels are
// built for head dims 64 and 128; cpu computes in bf16 only where
// slm_cpu_bf16_refusal allows it.
// -1 with err set (one line naming the flag) when the backend cannot run it.
int slm_backend_check(slm_backend_kind kind, slm_dtype dtype, slm_attention attention, const slm_model_config *model,
                      slm_err *err);
// The backend of kind `kind` computing in `dtype` (checked by slm_backend_check
// first). NULL with err filled when it cannot be had: a build without CUDA,
// or no GPU the driver sees.
slm_backend *slm_backend_open(slm_backend_kind kind, slm_dtype dtype, slm_err *err);
// GPUs the CUDA driver sees; 0 in a build without CUDA or on a machine without one.
int slm_cuda_devices(void);
