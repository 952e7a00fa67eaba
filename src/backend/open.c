// open.c — picks the backend a run asked for: `--backend cpu|cuda`, or cuda
// when a GPU is present and cpu otherwise. The only file outside
// src/backend/cuda that reaches the CUDA backend, behind SLM_HAVE_CUDA.
#include <string.h>

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

slm_backend *slm_backend_open(const char *name, slm_err *err) {
    if (!name) name = slm_cuda_devices() > 0 ? "cuda" : "cpu";
    if (strcmp(name, "cpu") == 0) return slm_backend_cpu();
    if (strcmp(name, "cuda") != 0) {
        slm_fail(err, "unknown backend '%s': expected cpu or cuda", name);
        return NULL;
    }
#ifdef SLM_HAVE_CUDA
    return slm_backend_cuda(err);
#else
    slm_fail(err, "this build has no CUDA backend (nvcc was not found when it was built)");
    return NULL;
#endif
}
