// comm_select.c — the communicator of a run, from its backend (comm_select.h).
// The NCCL communicator (comm_nccl.c) is reached behind SLM_HAVE_CUDA; of the
// CUDA backend only what backend.h gives: whether a GPU is there and the
// compute stream (slm_backend's stream).
#include "parallel/comm_select.h"

#include "parallel/rendezvous.h"

static slm_comm *g_run;

int slm_comm_world_for_backend(slm_backend_kind backend) {
    slm_comm *launched = slm_comm_open();
    if (backend != SLM_BACKEND_CUDA || launched->world > 1) return launched->world;
    slm_job_env job;
    slm_err err;
    if (slm_job_from_env(&job, &err)) slm_die(SLM_EXIT_USAGE, "%s", err.msg);
    return job.world;
}

#ifdef SLM_HAVE_CUDA

slm_comm *slm_comm_open_for_backend(slm_backend_kind backend, slm_dtype dtype, slm_backend **be, slm_err *err) {
    *be = NULL;
    if (backend != SLM_BACKEND_CUDA) {
        *be = slm_backend_open(backend, dtype, err);
        return *be ? (g_run = slm_comm_open()) : NULL;
    }
    if (slm_cuda_devices() > 0 && slm_comm_nccl_device(err) < 0) return NULL;
    if (!(*be = slm_backend_open(SLM_BACKEND_CUDA, dtype, err))) return NULL;  // no GPU: the backend's own one line
    slm_comm *c = slm_comm_open_nccl((*be)->stream, err);
    if (!c) {
        slm_backend_destroy(*be);
        *be = NULL;
        return NULL;
    }
    return g_run = c;
}
#else
slm_comm *slm_comm_open_for_backend(slm_backend_kind backend, slm_dtype dtype, slm_backend **be, slm_err *err) {
    *be = slm_backend_open(backend, dtype, err);  // cuda: "this build has no CUDA backend …"
    return *be ? (g_run = slm_comm_open()) : NULL;
}
#endif

slm_comm *slm_comm_run(void) { return g_run ? g_run : slm_comm_open(); }
