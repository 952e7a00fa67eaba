// comm_single.c — the communicator of a world of one: a reduction of one
// rank's data is that data (average and max included), a gather copies, and
// nothing ever waits. Strategies run unchanged on it.
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "parallel/comm.h"

// Reductions run in fp32 or fp64; bf16 is only gathered (comm.h).
static void refuse_bf16(slm_dtype t) {
    SLM_ASSERT(t != SLM_BF16, "a reduction in bf16 was asked; reductions run in fp32");
}

static slm_comm_req single_all_reduce(slm_comm *c, void *buf, size_t n, slm_dtype t, slm_reduce_op op,
                                      int nonblocking) {
    refuse_bf16(t);
    return 0;
}

static slm_comm_req single_reduce_scatter(slm_comm *c, void *out, const void *in, size_t n, slm_dtype t,
                                          slm_reduce_op op, int nonblocking) {
    refuse_bf16(t);
    if (out != in) memmove(out, in, n * slm_dtype_bytes(t));  // in place, block 0 is already there
    return 0;
}

static slm_comm_req single_all_gather(slm_comm *c, void *out, const void *in, size_t n, slm_dtype t, int nonblocking) {
    if (out != in) memmove(out, in, n * slm_dtype_bytes(t));
    return 0;
}

static void single_broadcast(slm_comm *c, void *buf, size_t bytes, int root) {}
static void single_nothing(slm_comm *c) {}
static void single_wait(slm_comm *c, slm_comm_req r) {}
static _Noreturn void single_abort(slm_comm *c, int code) { exit(code); }

slm_comm *slm_comm_single(void) {
    static slm_comm single = {.name = "single",
                              .rank = 0,
                              .world = 1,
                              .local_rank = 0,
                              .nodes = 1,
                              .all_reduce = single_all_reduce,
                              .reduce_scatter = single_reduce_scatter,
                              .all_gather = single_all_gather,
                              .broadcast = single_broadcast,
                              .barrier = single_nothing,
                              .wait = single_wait,
                              .progress = single_nothing,
                              .step_end = single_nothing,
                              .abort = single_abort,
                              .close = single_nothing};
    return &single;
}
