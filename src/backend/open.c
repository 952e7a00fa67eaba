// open.c — what differs between the backend kinds, answered in one place:
// the backend a run gets (`--backend cpu|cuda`, or slm_backend_default), its
// default compute dtype, the rules it holds a run to, and opening it. Outside
// src/backend/cuda, the only file that includes the CUDA backend's header
// (behind SLM_HAVE_CUDA); the rest of the tree asks these functions and the
// slm_backend they open.
#include "backend/backend.h"
#include "core/err.h"
#ifdef SLM_HAVE_CUDA
#include "backend/cuda/cuda.h"
#endif

int slm_cuda_devices(void) {
#ifdef SLM_HAVE_CUDA
    return cuda_device_count();
#else
    return 0;
#endif
}

slm_backend_kind slm_backend_default(void) { return slm_cuda_devices() > 0 ? SLM_BACKEND_CUDA : SLM_BACKEND_CPU; }

slm_dtype slm_backend_default_dtype(slm_backend_kind kind) { return kind == SLM_BACKEND_CUDA ? SLM_BF16 : SLM_F32; }

int slm_backend_check(slm_backend_kind kind, slm_dtype dtype, slm_attention attention, const slm_model_config *model,
                      slm_err *err) {
    const int hd = slm_head_dim(model);
    if (kind == SLM_BACKEND_CUDA && dtype != SLM_BF16)
        return slm_fail(err, "--dtype %s on cuda: the CUDA backend computes in bf16 (expected --dtype bf16)",
                        slm_dtype_name(dtype));
    if (kind == SLM_BACKEND_CUDA && attention == SLM_ATTN_FLASH && hd != 64 && hd != 128)
        return slm_fail(err,
                        "--attention flash on cuda: head dim %d (d_model %d / %d heads), but the CUDA flash kernels "
                        "are built for 64 and 128 (use --attention vanilla)",
                        hd, model->d_model, model->n_heads);
    if (kind == SLM_BACKEND_CPU && dtype == SLM_BF16 && slm_cpu_bf16_refusal())
        return slm_fail(err, "--dtype bf16: %s", slm_cpu_bf16_refusal());
    return 0;
}

slm_backend *slm_backend_open(slm_backend_kind kind, slm_dtype dtype, slm_err *err) {
    if (kind == SLM_BACKEND_CPU) return dtype == SLM_BF16 ? slm_backend_cpu_bf16() : slm_backend_cpu();
#ifdef SLM_HAVE_CUDA
    return slm_backend_cuda(err);
#else
    slm_fail(err, "this build has no CUDA backend (nvcc was not found when it was built)");
    return NULL;
#endif
}
