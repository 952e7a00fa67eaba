// comm_nccl.c — the communicator over NCCL: collectives on GPU buffers, run on
// a communication stream of their own beside the backend's compute stream.
//
// The one design decision to know: the two streams are ordered by events,
// never by the host. A collective makes the comm stream wait for everything
// queued on the compute stream so far, runs there and records a done event;
// wait() makes the compute stream wait for that event and returns at once. A
// blocking collective is a non-blocking one plus wait(). So DDP's bucket
// all-reduces and FSDP's prefetched all-gathers run while compute goes on, and
// whatever the compute stream queues after a wait() reads the result.
//
// Host buffers (the trainer's losses, norms and memory figures, flags and
// messages broadcast) are copied through a small device buffer on the comm
// stream, and the host waits for them: their values are read at once.
//
// wait_s is the time the compute stream stalled on communication — for each
// wait(), from the moment the compute stream reached it (an event recorded
// there) to the collective's done event, when positive — plus the span of each
// host-buffer collective and barrier on the comm stream. All of it is read from
// events on the GPU's clock: the stalls by progress() once they have completed
// and by slm_comm_nccl_settle at the end of a step, never by a host
// synchronisation per collective.
//
// The job: launched by mpirun or srun, the MPI communicator gives the ranks
// and broadcasts rank 0's ncclUniqueId (every rank first agrees it could set
// up, so none is left waiting); otherwise SLM_RANK, SLM_WORLD_SIZE,
// SLM_LOCAL_RANK and the rendezvous of rendezvous.h. Rank r uses GPU
// local_rank mod the GPUs it sees.
#include <cuda_runtime.h>
#include <nccl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "parallel/comm.h"
#include "parallel/rendezvous.h"

_Static_assert(sizeof(ncclUniqueId) == SLM_RENDEZVOUS_BYTES, "the rendezvous carries one ncclUniqueId");

typedef struct {
    cudaEvent_t want;  // on the compute stream: where it began to wait
    cudaEvent_t done;  // on the comm stream: the collective's end
} stall;

typedef struct {
    ncclComm_t nccl;
    cudaStream_t compute, comm;
    cudaEvent_t ready;                 // the compute stream's work so far (no timing)
    cudaEvent_t host_begin, host_end;  // a host-value collective's span on the comm stream
    cudaEvent_t *done;                 // per request: its collective's end; NULL when the slot is free [n_reqs]
    int n_reqs;
    cudaEvent_t *spare;  // timing events to use again [n_spare]
    int n_spare, cap_spare;
    stall *stalls;  // waited for, not yet read [n_stalls]
    int n_stalls, cap_stalls;
    void *stage;  // device copy of host buffers [stage_bytes]
    size_t stage_bytes;
    slm_comm *host;  // the MPI communicator the job was launched with, or NULL
    char prefix[32];
} nccl_state;

static slm_comm g_nccl;
static nccl_state g_state;
static slm_comm *g_open;

// ---- errors -------------------------------------------------------------------

static int cuda_fail(cudaError_t e, const char *what, slm_err *err) {
    return e == cudaSuccess ? 0 : slm_fail(err, "CUDA %s failed: %s", what, cudaGetErrorString(e));
}

static int nccl_fail(ncclResult_t r, const char *what, slm_err *err) {
    return r == ncclSuccess
               ? 0
               : slm_fail(err, "NCCL %s failed: %s (%s)", what, ncclGetErrorString(r), ncclGetLastError(NULL));
}

// Inside a step a failure ends the job (slm_die reaches every rank through the job's end).
static void cuda_ok(cudaError_t e, const char *what) {
    slm_err err;
    if (cuda_fail(e, what, &err)) slm_die(SLM_EXIT_FAIL, "%s", err.msg);
}

static void nccl_ok(ncclResult_t r, const char *what) {
    slm_err err;
    if (nccl_fail(r, what, &err)) slm_die(SLM_EXIT_FAIL, "%s", err.msg);
}

// ---- events -------------------------------------------------------------------

// Room for `need` elements of `size` bytes in *p, doubling *cap.
static void *room(void *p, int *cap, int need, size_t size) {
    if (need <= *cap) return p;
    *cap = *cap ? 2 * *cap : 64;
    if (*cap < need) *cap = need;
    p = realloc(p, (size_t)*cap * size);
    if (!p) slm_die(SLM_EXIT_FAIL, "out of host memory for %d NCCL events", *cap);
    return p;
}

static cudaEvent_t event_take(nccl_state *s) {
    if (s->n_spare) return s->spare[--s->n_spare];
    cudaEvent_t e;
    cuda_ok(cudaEventCreate(&e), "cudaEventCreate");
    return e;
}

static void event_give(nccl_state *s, cudaEvent_t e) {
    s->spare = room(s->spare, &s->cap_spare, s->n_spare + 1, sizeof *s->spare);
    s->spare[s->n_spare++] = e;
}

// Adds the stalls whose events have completed to wait_s (with `sync`, every
// stall, after waiting for its events) and keeps their events for reuse.
static void read_stalls(slm_comm *c, int sync) {
    nccl_state *s = c->impl;
    int kept = 0;
    for (int i = 0; i < s->n_stalls; i++) {
        stall x = s->stalls[i];
        if (sync) {
            cuda_ok(cudaEventSynchronize(x.want), "cudaEventSynchronize");
            cuda_ok(cudaEventSynchronize(x.done), "cudaEventSynchronize");
        } else if (cudaEventQuery(x.want) != cudaSuccess || cudaEventQuery(x.done) != cudaSuccess) {
            s->stalls[kept++] = x;
            continue;
        }
        float ms;
        cuda_ok(cudaEventElapsedTime(&ms, x.want, x.done), "cudaEventElapsedTime");
        if (ms > 0) c->wait_s += 1e-3 * ms;
        event_give(s, x.want);
        event_give(s, x.done);
    }
    s->n_stalls = kept;
}

// ---- collectives ----------------------------------------------------------------

typedef enum { ALL_REDUCE, REDUCE_SCATTER, ALL_GATHER, BROADCAST } coll_kind;

// One collective. n counts the elements of one rank's block (bytes for a broadcast).
typedef struct {
    coll_kind kind;
    void *out;
    const void *in;
    size_t n;
    ncclDataType_t type;
    size_t elem_bytes;
    ncclRedOp_t op;
    int root;
} coll;

static ncclDataType_t nccl_type(slm_dtype t) {
    SLM_ASSERT(t == SLM_F32 || t == SLM_F64 || t == SLM_BF16, "the nccl communicator has no data type %d", (int)t);
    return t == SLM_F32 ? ncclFloat32 : t == SLM_F64 ? ncclFloat64 : ncclBfloat16;
}

// The type of a reduction: fp32 or fp64 only (bf16 is gathered, never reduced).
static ncclDataType_t reduction_type(slm_dtype t) {
    SLM_ASSERT(t != SLM_BF16, "a reduction in bf16 was asked; reductions run in fp32");
    return nccl_type(t);
}

static ncclRedOp_t nccl_op(slm_reduce_op op) { return op == SLM_MAX ? ncclMax : op == SLM_AVG ? ncclAvg : ncclSum; }

// Queues x on the comm stream; its buffers are on the GPU. NCCL's in-place
// reduce-scatter leaves rank r's block where it lies in the input; ours at the
// input's start, so it is moved there.
static void issue(slm_comm *c, const coll *x) {
    nccl_state *s = c->impl;
    const size_t block_bytes = x->n * x->elem_bytes;
    switch (x->kind) {
        case ALL_REDUCE:
            nccl_ok(ncclAllReduce(x->in, x->out, x->n, x->type, x->op, s->nccl, s->comm), "ncclAllReduce");
            break;
        case REDUCE_SCATTER: {
            char *mine = x->out == x->in ? (char *)x->out + (size_t)c->rank * block_bytes : x->out;
            nccl_ok(ncclReduceScatter(x->in, mine, x->n, x->type, x->op, s->nccl, s->comm), "ncclReduceScatter");
            if ((void *)mine != x->out)
                cuda_ok(cudaMemcpyAsync(x->out, mine, block_bytes, cudaMemcpyDeviceToDevice, s->comm),
                        "cudaMemcpyAsync");
            break;
        }
        case ALL_GATHER:
            nccl_ok(ncclAllGather(x->in, x->out, x->n, x->type, s->nccl, s->comm), "ncclAllGather");
            break;
        case BROADCAST:
            nccl_ok(ncclBroadcast(x->in, x->out, x->n, ncclUint8, x->root, s->nccl, s->comm), "ncclBroadcast");
            break;
    }
}

static void nccl_wait(slm_comm *c, slm_comm_req r) {
    nccl_state *s = c->impl;
    if (r <= 0 || !s->done[r - 1]) return;
    stall x = {event_take(s), s->done[r - 1]};
    s->done[r - 1] = NULL;
    cuda_ok(cudaEventRecord(x.want, s->compute), "cudaEventRecord");
    cuda_ok(cudaStreamWaitEvent(s->compute, x.done, 0), "cudaStreamWaitEvent");
    s->stalls = room(s->stalls, &s->cap_stalls, s->n_stalls + 1, sizeof *s->stalls);
    s->stalls[s->n_stalls++] = x;
}

// GPU buffers: after the compute stream's work so far, on the comm stream; a request for its end.
static slm_comm_req run_on_gpu(slm_comm *c, const coll *x, int nonblocking) {
    nccl_state *s = c->impl;
    cuda_ok(cudaEventRecord(s->ready, s->compute), "cudaEventRecord");
    cuda_ok(cudaStreamWaitEvent(s->comm, s->ready, 0), "cudaStreamWaitEvent");
    issue(c, x);
    int i = 0;
    while (i < s->n_reqs && s->done[i]) i++;
    if (i == s->n_reqs) {
        int cap = s->n_reqs;
        s->done = room(s->done, &cap, s->n_reqs + 1, sizeof *s->done);
        for (int k = s->n_reqs; k < cap; k++) s->done[k] = NULL;
        s->n_reqs = cap;
    }
    s->done[i] = event_take(s);
    cuda_ok(cudaEventRecord(s->done[i], s->comm), "cudaEventRecord");
    if (nonblocking) return i + 1;
    nccl_wait(c, i + 1);
    return 0;
}

// Host buffers: copied to the staging buffer, run there in place, copied back;
// done on return. Its span on the comm stream goes to wait_s, not the time the
// host waited for the device collectives queued before it (their stalls count
// when the compute stream waits for them; the rest of that time is compute).
static void run_on_host(slm_comm *c, const coll *x) {
    nccl_state *s = c->impl;
    const size_t block_bytes = x->n * x->elem_bytes, all_bytes = (size_t)c->world * block_bytes;
    const size_t in_bytes = x->kind == REDUCE_SCATTER ? all_bytes : block_bytes;
    const size_t out_bytes = x->kind == ALL_GATHER ? all_bytes : block_bytes;
    const size_t in_at = x->kind == ALL_GATHER ? (size_t)c->rank * block_bytes : 0;  // NCCL's in-place all-gather
    const size_t need = in_at + in_bytes > out_bytes ? in_at + in_bytes : out_bytes;
    if (need > s->stage_bytes) {  // the comm stream is idle here: every host collective ends synchronised
        cuda_ok(cudaFree(s->stage), "cudaFree");
        s->stage_bytes = need > 2 * s->stage_bytes ? need : 2 * s->stage_bytes;
        cuda_ok(cudaMalloc(&s->stage, s->stage_bytes), "cudaMalloc of the host collectives' staging buffer");
    }
    char *stage = s->stage;
    cuda_ok(cudaEventRecord(s->host_begin, s->comm), "cudaEventRecord");
    cuda_ok(cudaMemcpyAsync(stage + in_at, x->in, in_bytes, cudaMemcpyHostToDevice, s->comm), "cudaMemcpyAsync");
    coll y = *x;
    y.in = stage + in_at;
    y.out = stage;
    issue(c, &y);
    cuda_ok(cudaMemcpyAsync(x->out, stage, out_bytes, cudaMemcpyDeviceToHost, s->comm), "cudaMemcpyAsync");
    cuda_ok(cudaEventRecord(s->host_end, s->comm), "cudaEventRecord");
    cuda_ok(cudaStreamSynchronize(s->comm), "cudaStreamSynchronize");
    float ms;
    cuda_ok(cudaEventElapsedTime(&ms, s->host_begin, s->host_end), "cudaEventElapsedTime");
    c->wait_s += 1e-3 * ms;
}

static int on_gpu(const void *p) {
    struct cudaPointerAttributes a;
    cuda_ok(cudaPointerGetAttributes(&a, p), "cudaPointerGetAttributes");
    return a.type == cudaMemoryTypeDevice || a.type == cudaMemoryTypeManaged;
}

static slm_comm_req run(slm_comm *c, coll x, int nonblocking) {
    if (x.n == 0) return 0;  // every rank has the same n
    int gpu_in = on_gpu(x.in), gpu_out = on_gpu(x.out);
    SLM_ASSERT(gpu_in == gpu_out, "a collective from %s memory into %s memory (expected one kind)",
               gpu_in ? "GPU" : "host", gpu_out ? "GPU" : "host");
    if (gpu_out) return run_on_gpu(c, &x, nonblocking);
    run_on_host(c, &x);
    return 0;
}

static slm_comm_req nccl_all_reduce(slm_comm *c, void *buf, size_t n, slm_dtype t, slm_reduce_op op, int nonblocking) {
    return run(c, (coll){ALL_REDUCE, buf, buf, n, reduction_type(t), slm_dtype_bytes(t), nccl_op(op), 0}, nonblocking);
}

static slm_comm_req nccl_reduce_scatter(slm_comm *c, void *out, const void *in, size_t n, slm_dtype t, slm_reduce_op op,
                                        int nonblocking) {
    return run(c, (coll){REDUCE_SCATTER, out, in, n, reduction_type(t), slm_dtype_bytes(t), nccl_op(op), 0},
               nonblocking);
}

static slm_comm_req nccl_all_gather(slm_comm *c, void *out, const void *in, size_t n, slm_dtype t, int nonblocking) {
    return run(c, (coll){ALL_GATHER, out, in, n, nccl_type(t), slm_dtype_bytes(t), ncclSum, 0}, nonblocking);
}

static void nccl_broadcast(slm_comm *c, void *buf, size_t bytes, int root) {
    run(c, (coll){BROADCAST, buf, buf, bytes, ncclUint8, 1, ncclSum, root}, 0);
}

// Every rank has reached it when it returns: an all-reduce of one host value.
static void nccl_barrier(slm_comm *c) {
    float one = 1.0f;
    run(c, (coll){ALL_REDUCE, &one, &one, 1, ncclFloat32, sizeof one, ncclSum, 0}, 0);
}

static void nccl_progress(slm_comm *c) { read_stalls(c, 0); }

void slm_comm_nccl_settle(slm_comm *c) {
    if (c == &g_nccl && g_open) read_stalls(c, 1);
}

// ---- the job --------------------------------------------------------------------

static _Noreturn void nccl_abort(slm_comm *c, int code) {
    nccl_state *s = c->impl;
    fflush(stdout);
    fflush(stderr);
    if (s->host) s->host->abort(s->host, code);  // MPI_Abort ends every rank
    if (s->nccl) ncclCommAbort(s->nccl);
    exit(code);
}

static _Noreturn void end_job(int code) { nccl_abort(&g_nccl, code); }

// Frees whatever of the state exists.
static void release(nccl_state *s) {
    if (s->comm) cudaStreamSynchronize(s->comm);
    if (s->nccl) ncclCommDestroy(s->nccl);
    for (int i = 0; i < s->n_stalls; i++) {
        cudaEventDestroy(s->stalls[i].want);
        cudaEventDestroy(s->stalls[i].done);
    }
    for (int i = 0; i < s->n_reqs; i++)
        if (s->done[i]) cudaEventDestroy(s->done[i]);
    for (int i = 0; i < s->n_spare; i++) cudaEventDestroy(s->spare[i]);
    if (s->ready) cudaEventDestroy(s->ready);
    if (s->host_begin) cudaEventDestroy(s->host_begin);
    if (s->host_end) cudaEventDestroy(s->host_end);
    if (s->comm) cudaStreamDestroy(s->comm);
    cudaFree(s->stage);
    free(s->done);
    free(s->spare);
    free(s->stalls);
    memset(s, 0, sizeof *s);
}

static void nccl_close(slm_comm *c) {
    read_stalls(c, 1);
    if (g_state.prefix[0]) slm_die_set_job("", NULL);
    release(c->impl);
    g_open = NULL;
}

// This rank's place: the MPI launcher's job when it started several ranks
// (*host is then its communicator), else the environment's.
static int find_job(slm_job_env *job, slm_comm **host, slm_err *err) {
    slm_comm *launched = slm_comm_open();
    *host = NULL;
    if (launched->world == 1) return slm_job_from_env(job, err);
    *job = (slm_job_env){launched->rank, launched->world, launched->local_rank, ""};
    *host = launched;
    return 0;
}

static int pick_device(const slm_job_env *job, slm_err *err) {
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess || n == 0)
        return slm_fail(err, "NCCL needs a GPU and this machine shows none (cudaGetDeviceCount: %s)",
                        e != cudaSuccess ? cudaGetErrorString(e) : "0 devices");
    int dev = job->local_rank % n;
    if (cuda_fail(cudaSetDevice(dev), "cudaSetDevice", err)) return -1;
    return dev;
}

int slm_comm_nccl_device(slm_err *err) {
    slm_job_env job;
    slm_comm *host;
    return find_job(&job, &host, err) ? -1 : pick_device(&job, err);
}

// The compute stream must be on the rank's GPU, where the comm stream is made.
static int check_stream(void *compute_stream, int dev, int local_rank, slm_err *err) {
    int on = dev;
    if (compute_stream && cuda_fail(cudaStreamGetDevice(compute_stream, &on), "cudaStreamGetDevice", err)) return -1;
    if (on != dev)
        return slm_fail(err,
                        "the compute stream is on GPU %d but local rank %d uses GPU %d: create it after "
                        "slm_comm_nccl_device",
                        on, local_rank, dev);
    return 0;
}

slm_comm *slm_comm_open_nccl(void *compute_stream, slm_err *err) {
    if (g_open) return g_open;
    slm_job_env job;
    slm_comm *host;
    ncclUniqueId id;
    memset(&id, 0, sizeof id);
    int failed = find_job(&job, &host, err);
    int dev = failed ? -1 : pick_device(&job, err);
    failed = failed || dev < 0 || check_stream(compute_stream, dev, job.local_rank, err) ||
             (job.rank == 0 && nccl_fail(ncclGetUniqueId(&id), "ncclGetUniqueId", err));
    if (host ? slm_comm_agree(host, failed, err) : failed) return NULL;  // no rank goes on alone to wait
    if (host)
        host->broadcast(host, &id, sizeof id, 0);
    else if (job.world > 1 &&
             slm_rendezvous(job.spec, job.rank, job.world, (unsigned char *)&id, SLM_RENDEZVOUS_TIMEOUT_S, err))
        return NULL;

    nccl_state *s = &g_state;
    memset(s, 0, sizeof *s);
    s->compute = compute_stream;
    s->host = host;
    int least, greatest;  // the comm stream first in line, so a collective's kernels start as soon as they may
    if (cuda_fail(cudaDeviceGetStreamPriorityRange(&least, &greatest), "cudaDeviceGetStreamPriorityRange", err) ||
        cuda_fail(cudaStreamCreateWithPriority(&s->comm, cudaStreamNonBlocking, greatest), "cudaStreamCreate", err) ||
        cuda_fail(cudaEventCreateWithFlags(&s->ready, cudaEventDisableTiming), "cudaEventCreate", err) ||
        cuda_fail(cudaEventCreate(&s->host_begin), "cudaEventCreate", err) ||
        cuda_fail(cudaEventCreate(&s->host_end), "cudaEventCreate", err) ||
        nccl_fail(ncclCommInitRank(&s->nccl, job.world, id, job.rank), "ncclCommInitRank", err)) {
        release(s);
        return NULL;
    }
    slm_comm *c = &g_nccl;
    *c = (slm_comm){.name = "nccl",
                    .rank = job.rank,
                    .world = job.world,
                    .local_rank = job.local_rank,
                    .nodes = host ? host->nodes : 1,
                    .all_reduce = nccl_all_reduce,
                    .reduce_scatter = nccl_reduce_scatter,
                    .all_gather = nccl_all_gather,
                    .broadcast = nccl_broadcast,
                    .barrier = nccl_barrier,
                    .wait = nccl_wait,
                    .progress = nccl_progress,
                    .step_end = slm_comm_nccl_settle,
                    .abort = nccl_abort,
                    .close = nccl_close,
                    .impl = s};
    if (!host && job.world > 1) {  // hosts: the ranks of local rank 0
        double first = job.local_rank == 0;
        c->all_reduce(c, &first, 1, SLM_F64, SLM_SUM, 0);
        c->nodes = (int)first;
        c->wait_s = 0;
        snprintf(s->prefix, sizeof s->prefix, "rank %d: ", job.rank);
        slm_die_set_job(s->prefix, end_job);
    }
    return g_open = c;
}
