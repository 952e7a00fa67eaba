// test_comm.c — the comm interface: every collective, blocking and
// non-blocking, fp32 and fp64, sum / average / max, and the bf16 all-gather,
// against values computed here. Run by CTest in one process it checks the
// `single` communicator, then launches itself under `mpirun -np 3` to check
// `mpi` (each rank checks its own results; the job fails if any rank's check
// does).
// label: mpi
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parallel/comm.h"
#include "testutil.h"

// Rank r's value of element i: distinct per rank and element, exact in fp32.
static double value(int r, size_t i) { return (double)(r + 1) * 0.5 + (double)(i % 97) * 0.25; }

static void check_collectives(slm_comm *c, int nonblocking) {
    const int W = c->world, R = c->rank;
    const size_t n = 1003;  // not a multiple of any world size
    const char *how = nonblocking ? "non-blocking" : "blocking";
    float *x = malloc(n * W * sizeof(float)), *y = malloc(n * W * sizeof(float));
    double *d = malloc(n * sizeof(double));
    const slm_reduce_op ops[3] = {SLM_SUM, SLM_AVG, SLM_MAX};
    const char *names[3] = {"sum", "average", "max"};
    for (int o = 0; o < 3; o++) {
        for (size_t i = 0; i < n; i++) x[i] = (float)value(R, i), d[i] = value(R, i);
        c->wait(c, c->all_reduce(c, x, n, SLM_F32, ops[o], nonblocking));
        c->wait(c, c->all_reduce(c, d, n, SLM_F64, ops[o], nonblocking));
        double worst = 0;
        for (size_t i = 0; i < n; i++) {
            double want = 0;
            for (int r = 0; r < W; r++) want = ops[o] == SLM_MAX ? fmax(want, value(r, i)) : want + value(r, i);
            if (ops[o] == SLM_AVG) want /= W;
            worst = fmax(worst, fmax(fabs(x[i] - want), fabs(d[i] - want)) / want);
        }
        t_check(worst <= 1e-6, "rank %d/%d: %s all-reduce (%s), fp32 and fp64: max rel err %.1e", R, W, how, names[o],
                worst);
    }
    // reduce-scatter: rank r gets the sum over ranks of block r
    for (size_t i = 0; i < n * W; i++) x[i] = (float)value(R, i);
    c->wait(c, c->reduce_scatter(c, y, x, n, SLM_F32, SLM_SUM, nonblocking));
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double want = 0;
        for (int r = 0; r < W; r++) want += value(r, (size_t)R * n + i);
        worst = fmax(worst, fabs(y[i] - want) / want);
    }
    t_check(worst <= 1e-6, "rank %d/%d: %s reduce-scatter: block %d max rel err %.1e", R, W, how, R, worst);
    // all-gather: block r is rank r's
    for (size_t i = 0; i < n; i++) x[i] = (float)value(R, i);
    c->wait(c, c->all_gather(c, y, x, n, SLM_F32, nonblocking));
    int bad = 0;
    for (int r = 0; r < W; r++)
        for (size_t i = 0; i < n; i++) bad += y[(size_t)r * n + i] != (float)value(r, i);
    t_check(!bad, "rank %d/%d: %s all-gather: %d of %zu elements wrong", R, W, how, bad, n * W);
    // bf16 all-gather (FSDP's compute copy): 16-bit words, moved unchanged
    uint16_t *h = malloc(n * sizeof *h), *hall = malloc(n * W * sizeof *hall);
    for (size_t i = 0; i < n; i++) h[i] = (uint16_t)(0x3f80 + R * 1031 + i);
    c->wait(c, c->all_gather(c, hall, h, n, SLM_BF16, nonblocking));
    bad = 0;
    for (int r = 0; r < W; r++)
        for (size_t i = 0; i < n; i++) bad += hall[(size_t)r * n + i] != (uint16_t)(0x3f80 + r * 1031 + i);
    t_check(!bad, "rank %d/%d: %s all-gather in bf16: %d of %zu elements wrong", R, W, how, bad, n * W);
    free(h);
    free(hall);
    free(x);
    free(y);
    free(d);
}

int main(int argc, char **argv) {
    slm_comm *c = slm_comm_open();
    check_collectives(c, 0);
    check_collectives(c, 1);
    char text[32] = "";
    if (c->rank == c->world - 1) snprintf(text, sizeof text, "from rank %d", c->rank);
    c->broadcast(c, text, sizeof text, c->world - 1);
    char want[32];
    snprintf(want, sizeof want, "from rank %d", c->world - 1);
    t_check(!strcmp(text, want), "rank %d/%d: broadcast from the last rank: \"%s\"", c->rank, c->world, text);
    c->barrier(c);
    t_check(c->nodes == 1 && c->local_rank == c->rank, "rank %d/%d: one host, local rank %d", c->rank, c->world,
            c->local_rank);
    if (c->world > 1) return t_finish("test_comm (mpi rank)");

    // in one process: the mpi communicator, by launching this program with 3 ranks
    if (system("command -v mpirun >/dev/null 2>&1")) {
        t_check(0, "mpirun is installed (make deps installs openmpi-bin)");
        return t_finish("test_comm");
    }
    char cmd[4096];
    snprintf(
        cmd, sizeof cmd,
        "timeout 60 mpirun --oversubscribe %s -np 3 -x OMP_NUM_THREADS=1 -x ASAN_OPTIONS=detect_leaks=0:exitcode=23 "
        "%s",
        getuid() == 0 ? "--allow-run-as-root" : "", argv[0]);
    fflush(stdout);
    int st = system(cmd);
    t_check(st == 0, "mpirun -np 3: every rank's checks passed (exit status %d)", st);
    return t_finish("test_comm");
}
