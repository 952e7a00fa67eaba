// test_comm_nompi.c — slm_comm_open in a build without MPI (comm_nompi.c):
// a launch of several ranks (the launcher's environment, as mpirun or srun
// sets it) exits with code 2 and one line naming the ranks; a plain start is
// the `single` communicator of world size 1. A build with MPI has comm_mpi.c
// instead (test_comm checks it), so there this test says it skipped.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "parallel/comm.h"
#include "testutil.h"

#ifdef SLM_HAVE_MPI
int main(void) {
    printf("skipped: this build has MPI (comm_mpi.c; test_comm checks it)\n");
    return 0;
}
#else
// Opens the communicator in a child with the launcher variable `var` set to
// `value`; returns the child's exit status and its stderr in msg.
static int open_launched(const char *var, const char *value, char *msg, size_t n) {
    const char *path = t_tmp_path("stderr.txt");
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        if (!freopen(path, "w", stderr)) _exit(99);
        setenv(var, value, 1);
        slm_comm_open();
        _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    msg[0] = 0;
    FILE *f = fopen(path, "r");
    if (f) {
        if (!fgets(msg, (int)n, f)) msg[0] = 0;
        fclose(f);
    }
    msg[strcspn(msg, "\n")] = 0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int main(void) {
    static const struct {
        const char *var, *value, *want;
    } launches[] = {
        {"OMPI_COMM_WORLD_SIZE", "3", "slm: this build has no MPI: rebuild with OpenMPI to run 3 ranks"},
        {"PMI_SIZE", "4", "slm: this build has no MPI: rebuild with OpenMPI to run 4 ranks"},
        {"PMIX_RANK", "1", "slm: this build has no MPI: rebuild with OpenMPI to run 2 ranks"},
        {"OMPI_COMM_WORLD_SIZE", "1", ""},
    };
    for (size_t i = 0; i < sizeof launches / sizeof launches[0]; i++) {
        char msg[256];
        int code = open_launched(launches[i].var, launches[i].value, msg, sizeof msg);
        int want_code = launches[i].want[0] ? 2 : 0;
        t_check(code == want_code && !strcmp(msg, launches[i].want), "%s=%s: exit %d (want %d), stderr \"%s\"",
                launches[i].var, launches[i].value, code, want_code, msg);
    }

    slm_comm *c = slm_comm_open();
    t_check(c == slm_comm_current() && !strcmp(c->name, "single") && c->world == 1 && c->rank == 0,
            "a plain start: the %s communicator, rank %d of %d", c->name, c->rank, c->world);
    double x[3] = {1.5, -2.0, 4.25};
    c->all_reduce(c, x, 3, SLM_F64, SLM_SUM, 0);
    t_check(x[0] == 1.5 && x[1] == -2.0 && x[2] == 4.25, "world size 1: an all-reduce leaves the data as it was");
    slm_comm_shutdown();
    t_check(slm_comm_current() == NULL, "shutdown: no communicator open");
    return t_finish("test_comm_nompi");
}
#endif
