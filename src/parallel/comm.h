// comm.h — the communication interface the strategies are written over.
//
// Collectives over every rank of the job: all-reduce, reduce-scatter,
// all-gather, broadcast, barrier; sum, average or max; fp32 buffers (the
// model's), fp64 (host scalars: losses, norms, memory figures) and bf16 (the
// compute copy of parameters FSDP gathers: all-gather only; a reduction in
// bf16 is refused, as every reduction runs in fp32). Each collective exists
// blocking and non-blocking; a non-blocking one returns a request that
// slm_comm_wait completes. Buffers are device memory of the backend in use
// (host memory on the CPU).
//
// Implementations: `single` (world size 1, no MPI at run time: every
// collective is a copy or nothing), `mpi` (OpenMPI) and `nccl` (GPU buffers,
// comm_nccl.c, in a build with CUDA). The one design decision to know: time
// spent blocked in a collective or a wait is added to wait_s, which is how a
// run measures the share of its step spent waiting on communication.
#pragma once
#include <stddef.h>

#include "core/dtype.h"
#include "core/err.h"

typedef enum { SLM_SUM, SLM_AVG, SLM_MAX } slm_reduce_op;

typedef int slm_comm_req;  // a non-blocking collective in flight; 0 = none

typedef struct slm_comm slm_comm;
struct slm_comm {
    const char *name;  // "single", "mpi", "nccl"
    int rank, world;
    int local_rank;  // rank among the ranks of this host
    int nodes;       // hosts in the job
    double wait_s;   // seconds blocked in collectives and waits since open
    // in-place all-reduce of n elements
    slm_comm_req (*all_reduce)(slm_comm *c, void *buf, size_t n, slm_dtype t, slm_reduce_op op, int nonblocking);
    // in [world·n] → out [n]: rank r receives the reduced r-th block of n;
    // in place when out == in (the result lands in in[0 .. n))
    slm_comm_req (*reduce_scatter)(slm_comm *c, void *out, const void *in, size_t n, slm_dtype t, slm_reduce_op op,
                                   int nonblocking);
    // in [n] → out [world·n], rank r's block at r·n
    slm_comm_req (*all_gather)(slm_comm *c, void *out, const void *in, size_t n, slm_dtype t, int nonblocking);
    void (*broadcast)(slm_comm *c, void *buf, size_t bytes, int root);
    void (*barrier)(slm_comm *c);
    void (*wait)(slm_comm *c, slm_comm_req r);
    // Lets requests in flight advance (MPI progresses them only inside MPI calls).
    void (*progress)(slm_comm *c);
    // The end of a training step, before its wait_s is read: `nccl` adds the
    // compute stream's stalls on collectives (slm_comm_nccl_settle); for the
    // others wait_s is already complete and it does nothing.
    void (*step_end)(slm_comm *c);
    // Ends every rank of the job with exit code `code` (after this rank printed why).
    void (*abort)(slm_comm *c, int code);  // does not return
    void (*close)(slm_comm *c);
    void *impl;
};

// The communicator of this process: `mpi` when launched by mpirun or srun
// (the launcher's environment says so), otherwise `single`. Opened once; a
// second call returns the same one. Exits with a one-line error when the job
// was launched with several ranks but this build cannot join them.
slm_comm *slm_comm_open(void);
// The `single` communicator, world size 1 (for tests and tools).
slm_comm *slm_comm_single(void);
// Closes the communicator opened by slm_comm_open, if any (MPI_Finalize).
void slm_comm_shutdown(void);
// The communicator slm_comm_open returned, or NULL when none was opened.
slm_comm *slm_comm_current(void);
// Collective: every rank says whether it failed (its message in err). When
// any did, every rank returns -1 with the message of the lowest failing rank,
// prefixed "rank N: " in a job of several ranks; else 0.
int slm_comm_agree(slm_comm *c, int failed, slm_err *err);
// A failure of this rank alone (err says what): in a job of several ranks it
// ends the job with that message (the others would wait for this rank in
// their next collective); alone it returns -1.
int slm_comm_fail_alone(const slm_comm *c, const slm_err *err);

// ---- NCCL (comm_nccl.c): declared only in a build with CUDA -------------------
#ifdef SLM_HAVE_CUDA
// The GPU this rank computes on, made current: its local rank modulo the GPUs
// it sees. The job is the MPI launcher's when it started several ranks, else
// SLM_RANK / SLM_WORLD_SIZE / SLM_LOCAL_RANK (none set: rank 0 of 1). Call it
// before creating the compute stream. -1 with err set without a GPU or on a
// bad environment.
int slm_comm_nccl_device(slm_err *err);
// The `nccl` communicator of the job (once; a second call returns it): buffers
// on the GPU run on a stream of its own, ordered against `compute_stream` (a
// cudaStream_t on slm_comm_nccl_device's GPU; NULL: the legacy default stream)
// by events, so wait() never blocks the host; host buffers are copied through
// the GPU and done on return. Launched by mpirun or srun, rank 0's id goes out
// over MPI; otherwise through SLM_RENDEZVOUS (rendezvous.h). NULL with err set
// when this rank cannot join.
slm_comm *slm_comm_open_nccl(void *compute_stream, slm_err *err);
// Adds to wait_s the time the compute stream stalled on collectives it waited
// for. Once per step, at its end: it waits for the events it reads.
void slm_comm_nccl_settle(slm_comm *c);
#endif
