// comm_nompi.c — slm_comm_open for a build without MPI (CMake finds no MPI,
// e.g. on a GPU machine without OpenMPI): always the `single` communicator.
// Built instead of comm_mpi.c, never beside it.
//
// The one design decision to know: a process started by a launcher as one of
// several ranks refuses to run (each rank alone would train on its own and
// write the same records), while a plain start, or a launch of one rank, runs.
#include <stdlib.h>

#include "core/err.h"
#include "parallel/comm.h"

static slm_comm *g_open;

// Ranks in the job as the launcher's environment says (OpenMPI's mpirun,
// PMIx as srun and prterun set it, PMI-1/2): the largest size given, or one
// more than the largest rank where only ranks are given; 1 without a launcher.
static long launched_ranks(void) {
    static const struct {
        const char *var;
        long plus;  // a size counts as is, a rank r as r + 1 ranks at least
    } vars[] = {
        {"OMPI_COMM_WORLD_SIZE", 0}, {"PMI_SIZE", 0}, {"OMPI_COMM_WORLD_RANK", 1}, {"PMIX_RANK", 1}, {"PMI_RANK", 1}};
    long n = 1;
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i].var);
        long k = v ? strtol(v, NULL, 10) + vars[i].plus : 0;
        if (k > n) n = k;
    }
    return n;
}

slm_comm *slm_comm_open(void) {
    if (g_open) return g_open;
    long ranks = launched_ranks();
    if (ranks > 1) slm_die(SLM_EXIT_USAGE, "this build has no MPI: rebuild with OpenMPI to run %ld ranks", ranks);
    return g_open = slm_comm_single();
}

slm_comm *slm_comm_current(void) { return g_open; }

void slm_comm_shutdown(void) { g_open = NULL; }
