// comm_select.h — which communicator a run uses, decided here and nowhere
// else: on the cuda backend `nccl` (collectives on GPU buffers, comm_nccl.c),
// on the cpu backend slm_comm_open's (`mpi` when launched by mpirun or srun,
// else `single`).
// The one design decision to know: on cuda the order is fixed — the rank's GPU
// is chosen (slm_comm_nccl_device) before the backend creates its compute
// stream on it, and the communicator is opened on that stream — so the
// backend and the communicator of a run open together, in
// slm_comm_open_for_backend.
#pragma once
#include "backend/backend.h"
#include "core/err.h"
#include "parallel/comm.h"

// The world size a run on `backend` (resolved: slm_backend_default where the
// run names none) will have, before anything opens: on cuda the MPI
// launcher's ranks when it started several, else SLM_WORLD_SIZE; on cpu
// slm_comm_open's. Exits with a one-line usage error on a malformed
// SLM_RANK / SLM_WORLD_SIZE / SLM_LOCAL_RANK / SLM_RENDEZVOUS.
int slm_comm_world_for_backend(slm_backend_kind backend);

// Opens the backend of kind `backend` computing in `dtype` (as slm_backend_open) into *be and the
// communicator of the run, and returns it. NULL with err set when either
// cannot open (*be is then NULL). Every rank calls it once per run; a second
// run in the same process gets the same communicator.
slm_comm *slm_comm_open_for_backend(slm_backend_kind backend, slm_dtype dtype, slm_backend **be, slm_err *err);

// The communicator of this process's run, for "is this rank 0" outside the
// trainer: the one slm_comm_open_for_backend opened, else slm_comm_open's.
slm_comm *slm_comm_run(void);
