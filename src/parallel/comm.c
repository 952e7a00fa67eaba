// comm.c — what every communicator shares: how ranks agree on a failure so
// that all of them take the same path afterwards.
#include <stdio.h>

#include "parallel/comm.h"

int slm_comm_agree(slm_comm *c, int failed, slm_err *err) {
    double first = failed ? -(double)c->rank : -1e300;  // the lowest failing rank speaks
    c->all_reduce(c, &first, 1, SLM_F64, SLM_MAX, 0);
    if (first == -1e300) return 0;
    if (c->world > 1) {
        int root = (int)-first;
        slm_err named = {{0}};
        if (c->rank == root) snprintf(named.msg, sizeof named.msg, "rank %d: %.490s", root, err->msg);
        c->broadcast(c, named.msg, sizeof named.msg, root);
        *err = named;
    }
    return -1;
}

int slm_comm_fail_alone(const slm_comm *c, const slm_err *err) {
    if (c->world > 1) slm_die(SLM_EXIT_FAIL, "%s", err->msg);
    return -1;
}
