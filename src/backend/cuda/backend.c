// backend.c — the CUDA backend: the op table (bf16 compute), device memory
// through cudaMalloc, the one compute stream, the ops' scratch pool, and the
// device's own memory peak.
// The one decision to know: the stream, the cuBLASLt handle and the scratch
// pool are process-wide, made by the first slm_backend_cuda and kept to the
// end of the process, on the GPU current then: 0, or the one the NCCL
// communicator chose for this rank (slm_comm_nccl_device, called first); the
// tracked allocations are freed with the backend as on the CPU.
#include <stdio.h>

#include "backend/backend.h"
#include "backend/cuda/attention_flash.h"
#include "backend/cuda/cuda.h"
#include "core/err.h"

// FlashAttention-2 (attention_flash.cu) in the op table's form: saved is the
// log-sum-exp [B,H,T] fp32; the backward's scratch its dQ accumulator and row sums.
static void flash_fwd(void *out, void *saved, void *scratch, const void *q, const void *k, const void *v, int B, int T,
                      int H, int KVH, int hd) {
    slm_cuda_flash_fwd(out, saved, q, k, v, B, T, H, KVH, hd, slm_cuda_stream());
}

static void flash_bwd(void *dq, void *dk, void *dv, void *scratch, const void *dout, const void *out, const void *saved,
                      const void *q, const void *k, const void *v, int B, int T, int H, int KVH, int hd) {
    slm_cuda_flash_bwd(dq, dk, dv, scratch, dout, out, saved, q, k, v, B, T, H, KVH, hd, slm_cuda_stream());
}

static const slm_ops cuda_ops = {
    .embedding_fwd = cuda_embedding_fwd,
    .embedding_bwd = cuda_embedding_bwd,
    .rmsnorm_fwd = cuda_rmsnorm_fwd,
    .rmsnorm_bwd = cuda_rmsnorm_bwd,
    .matmul_fwd = cuda_matmul_fwd,
    .matmul_bwd = cuda_matmul_bwd,
    .rope_fwd = cuda_rope_fwd,
    .rope_bwd = cuda_rope_bwd,
    .attention_vanilla_fwd = cuda_attention_vanilla_fwd,
    .attention_vanilla_bwd = cuda_attention_vanilla_bwd,
    .attention_flash_fwd = flash_fwd,
    .attention_flash_bwd = flash_bwd,
    .swiglu_fwd = cuda_swiglu_fwd,
    .swiglu_bwd = cuda_swiglu_bwd,
    .xent_fwd_bwd = cuda_xent_fwd_bwd,
    .adamw = cuda_adamw,
    .to_compute = cuda_to_compute,
    .sumsq = cuda_sumsq,
    .scale = cuda_scale,
    .axpy = cuda_axpy,
};

static cudaStream_t stream;
static int device;  // the GPU of this process: the current one when the backend opens
static size_t device_peak_bytes;
static struct {
    void *p;
    size_t bytes;
} scratch[CUDA_SCRATCH_NSLOTS];

void slm_cuda_fail(const char *call, const char *why, const char *file, int line) {
    slm_die(SLM_EXIT_FAIL, "CUDA call %s failed: %s (%s:%d)", call, why, file, line);
}

cudaStream_t slm_cuda_stream(void) { return stream; }

void cuda_note_device_use(void) {
    size_t free_bytes = 0, total_bytes = 0;
    CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
    if (total_bytes - free_bytes > device_peak_bytes) device_peak_bytes = total_bytes - free_bytes;
}

size_t slm_cuda_device_peak_bytes(void) { return device_peak_bytes; }

void *cuda_scratch(int slot, size_t bytes) {
    if (bytes <= scratch[slot].bytes) return scratch[slot].p;
    CUDA_CHECK(cudaFree(scratch[slot].p));  // waits for the kernels still reading it
    CUDA_CHECK(cudaMalloc(&scratch[slot].p, bytes));
    scratch[slot].bytes = bytes;
    cuda_note_device_use();
    return scratch[slot].p;
}

// A failed cudaMalloc returns NULL, so the tracker reports it as an OOM result.
static void *cuda_raw_alloc(size_t bytes) {
    void *p = NULL;
    if (cudaMalloc(&p, bytes) != cudaSuccess) {
        (void)cudaGetLastError();  // clear the error, which is not sticky
        return NULL;
    }
    cuda_note_device_use();
    return p;
}

static void cuda_raw_free(void *p) { CUDA_CHECK(cudaFree(p)); }
static void cuda_zero(void *p, size_t bytes) { CUDA_CHECK(cudaMemsetAsync(p, 0, bytes, stream)); }
static void cuda_copy(void *dst, const void *src, size_t bytes) {
    CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream));
}
// Host copies wait for the stream: the host buffer may be reused as soon as they return.
static void cuda_to_device(void *dst, const void *src, size_t bytes) {
    CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream));
    CUDA_CHECK(cudaStreamSynchronize(stream));
}
static void cuda_to_host(void *dst, const void *src, size_t bytes) {
    CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream));
    CUDA_CHECK(cudaStreamSynchronize(stream));
}
static void cuda_sync(void) { CUDA_CHECK(cudaStreamSynchronize(stream)); }

int cuda_device_count(void) {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        (void)cudaGetLastError();
        return 0;
    }
    return n;
}

slm_backend *slm_backend_cuda(slm_err *err) {
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess || n == 0) {
        slm_fail(err, "no CUDA device: %s; use --backend cpu",
                 e != cudaSuccess ? cudaGetErrorString(e) : "the driver sees no GPU");
        (void)cudaGetLastError();
        return NULL;
    }
    if (!stream) {
        CUDA_CHECK(cudaGetDevice(&device));
        CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
        cuda_gemm_init();
    }
    slm_backend *be = slm_xcalloc(1, sizeof *be);
    be->name = "cuda";
    be->ops = &cuda_ops;
    be->compute = SLM_BF16;
    be->raw_alloc = cuda_raw_alloc;
    be->raw_free = cuda_raw_free;
    be->zero = cuda_zero;
    be->copy = cuda_copy;
    be->to_device = cuda_to_device;
    be->to_host = cuda_to_host;
    be->sync = cuda_sync;
    be->gemm_flops_per_s = cuda_gemm_flops_per_s;
    be->gemm_library = cuda_gemm_library;
    be->device_peak_bytes = slm_cuda_device_peak_bytes;
    be->stream = stream;
    struct cudaDeviceProp prop;
    CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
    snprintf(be->device, sizeof be->device, "%.127s", prop.name);
    size_t free_bytes = 0;
    CUDA_CHECK(cudaMemGetInfo(&free_bytes, &be->mem.capacity));
    cuda_note_device_use();
    return be;
}
