// comm_mpi.c — the communicator over MPI (OpenMPI), and slm_comm_open, which
// picks it when the process was started by a launcher (mpirun, srun).
//
// Averages are sums scaled by 1/world when they complete (MPI has no average).
// Non-blocking collectives are MPI_I* calls kept in a small request table; MPI
// advances them only inside MPI calls, so strategies call progress() at unit
// boundaries. A rank that dies through slm_die ends the whole job with
// MPI_Abort after printing its message, so a failure never leaves the others
// waiting in a collective.
#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/err.h"
#include "parallel/comm.h"

typedef struct {
    int held;  // a handle was given out and not yet waited on
    MPI_Request req;
    void *buf;  // scaled by 1/world on completion (averages), else NULL
    size_t n;
    slm_dtype t;
} pending;

// Requests in flight. A slot is free again only once its handle was waited
// on, so a handle never names a later request, whatever progress() completed.
typedef struct {
    pending *reqs;
    int n_reqs;
    char prefix[32];
} mpi_state;

static slm_comm g_mpi;
static mpi_state g_state;
static slm_comm *g_open;

// bf16 moves as 16-bit words: it is gathered, never reduced.
static MPI_Datatype mpi_type(slm_dtype t) {
    return t == SLM_F64 ? MPI_DOUBLE : t == SLM_BF16 ? MPI_UINT16_T : MPI_FLOAT;
}

// The type of a reduction: fp32 or fp64 only.
static MPI_Datatype reduction_type(slm_dtype t) {
    SLM_ASSERT(t != SLM_BF16, "a reduction in bf16 was asked; reductions run in fp32");
    return mpi_type(t);
}
static MPI_Op mpi_op(slm_reduce_op op) { return op == SLM_MAX ? MPI_MAX : MPI_SUM; }

static int count(size_t n) {
    SLM_ASSERT(n <= INT_MAX, "a collective of %zu elements exceeds MPI's int count", n);
    return (int)n;
}

static void scale(void *buf, size_t n, slm_dtype t, int world) {
    if (t == SLM_F64) {
        double *x = buf, s = 1.0 / world;
        for (size_t i = 0; i < n; i++) x[i] *= s;
    } else {
        float *x = buf, s = 1.0f / (float)world;
        for (size_t i = 0; i < n; i++) x[i] *= s;
    }
}

// A free slot of the request table (grown when all are held), holding the average to finish (or not).
static slm_comm_req slot(slm_comm *c, void *avg_buf, size_t n, slm_dtype t, MPI_Request **req) {
    mpi_state *s = c->impl;
    int i = 0;
    while (i < s->n_reqs && s->reqs[i].held) i++;
    if (i == s->n_reqs) {
        s->n_reqs = s->n_reqs ? 2 * s->n_reqs : 64;
        s->reqs = realloc(s->reqs, (size_t)s->n_reqs * sizeof *s->reqs);
        if (!s->reqs) slm_die(SLM_EXIT_FAIL, "out of host memory for %d collectives in flight", s->n_reqs);
        for (int k = i; k < s->n_reqs; k++) s->reqs[k] = (pending){0, MPI_REQUEST_NULL, NULL, 0, SLM_F32};
    }
    s->reqs[i] = (pending){1, MPI_REQUEST_NULL, avg_buf, n, t};
    *req = &s->reqs[i].req;
    return i + 1;
}

static void mpi_wait(slm_comm *c, slm_comm_req r) {
    if (r <= 0) return;
    pending *p = &((mpi_state *)c->impl)->reqs[r - 1];
    double t0 = slm_now_s();
    MPI_Wait(&p->req, MPI_STATUS_IGNORE);
    c->wait_s += slm_now_s() - t0;
    if (p->buf) scale(p->buf, p->n, p->t, c->world);
    *p = (pending){0, MPI_REQUEST_NULL, NULL, 0, SLM_F32};
}

// Starts a request, or completes it at once when blocking.
static slm_comm_req finish(slm_comm *c, slm_comm_req r, int nonblocking) {
    if (nonblocking) return r;
    mpi_wait(c, r);
    return 0;
}

static slm_comm_req mpi_all_reduce(slm_comm *c, void *buf, size_t n, slm_dtype t, slm_reduce_op op, int nonblocking) {
    MPI_Request *req;
    slm_comm_req r = slot(c, op == SLM_AVG ? buf : NULL, n, t, &req);
    MPI_Iallreduce(MPI_IN_PLACE, buf, count(n), reduction_type(t), mpi_op(op), MPI_COMM_WORLD, req);
    return finish(c, r, nonblocking);
}

static slm_comm_req mpi_reduce_scatter(slm_comm *c, void *out, const void *in, size_t n, slm_dtype t, slm_reduce_op op,
                                       int nonblocking) {
    MPI_Request *req;
    slm_comm_req r = slot(c, op == SLM_AVG ? out : NULL, n, t, &req);
    MPI_Ireduce_scatter_block(in == out ? MPI_IN_PLACE : in, out, count(n), reduction_type(t), mpi_op(op),
                              MPI_COMM_WORLD, req);
    return finish(c, r, nonblocking);
}

static slm_comm_req mpi_all_gather(slm_comm *c, void *out, const void *in, size_t n, slm_dtype t, int nonblocking) {
    MPI_Request *req;
    slm_comm_req r = slot(c, NULL, n, t, &req);
    MPI_Iallgather(in, count(n), mpi_type(t), out, count(n), mpi_type(t), MPI_COMM_WORLD, req);
    return finish(c, r, nonblocking);
}

static void mpi_broadcast(slm_comm *c, void *buf, size_t bytes, int root) {
    double t0 = slm_now_s();
    MPI_Bcast(buf, count(bytes), MPI_BYTE, root, MPI_COMM_WORLD);
    c->wait_s += slm_now_s() - t0;
}

static void mpi_barrier(slm_comm *c) {
    double t0 = slm_now_s();
    MPI_Barrier(MPI_COMM_WORLD);
    c->wait_s += slm_now_s() - t0;
}

static void mpi_progress(slm_comm *c) {
    mpi_state *s = c->impl;
    for (int i = 0; i < s->n_reqs; i++) {
        int done;
        if (s->reqs[i].req != MPI_REQUEST_NULL) MPI_Test(&s->reqs[i].req, &done, MPI_STATUS_IGNORE);
    }
}

static _Noreturn void mpi_abort(slm_comm *c, int code) {
    fflush(stdout);
    fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, code);
    exit(code);  // MPI_Abort does not return; this keeps the compiler sure of it
}

static _Noreturn void end_job(int code) { mpi_abort(&g_mpi, code); }

static void mpi_step_end(slm_comm *c) {}  // every wait was timed on the host as it happened

static void mpi_close(slm_comm *c) {
    MPI_Finalize();
    free(g_state.reqs);
    g_state.reqs = NULL;
    g_state.n_reqs = 0;
}

// The launcher's environment: OpenMPI's mpirun, PMIx (srun, prterun), PMI-1/2.
static int launched_by_mpi(void) {
    const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (getenv(vars[i])) return 1;
    return 0;
}

slm_comm *slm_comm_open(void) {
    if (g_open) return g_open;
    if (!launched_by_mpi()) return g_open = slm_comm_single();
    MPI_Init(NULL, NULL);
    atexit(slm_comm_shutdown);
    slm_comm *c = &g_mpi;
    *c = (slm_comm){.name = "mpi",
                    .all_reduce = mpi_all_reduce,
                    .reduce_scatter = mpi_reduce_scatter,
                    .all_gather = mpi_all_gather,
                    .broadcast = mpi_broadcast,
                    .barrier = mpi_barrier,
                    .wait = mpi_wait,
                    .progress = mpi_progress,
                    .step_end = mpi_step_end,
                    .abort = mpi_abort,
                    .close = mpi_close,
                    .impl = &g_state};
    MPI_Comm_rank(MPI_COMM_WORLD, &c->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &c->world);
    MPI_Comm local;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, c->rank, MPI_INFO_NULL, &local);
    MPI_Comm_rank(local, &c->local_rank);
    MPI_Comm_free(&local);
    int first = c->local_rank == 0;
    MPI_Allreduce(&first, &c->nodes, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (c->world > 1) {
        snprintf(g_state.prefix, sizeof g_state.prefix, "rank %d: ", c->rank);
        slm_die_set_job(g_state.prefix, end_job);
    }
    return g_open = c;
}

slm_comm *slm_comm_current(void) { return g_open; }

void slm_comm_shutdown(void) {
    if (g_open) g_open->close(g_open);
    g_open = NULL;
}
