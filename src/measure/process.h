// process.h — runs one sweep point as its own process (group), with a
// timeout, its output to a log file. The child dies with the sweep
// (PR_SET_PDEATHSIG), and a SIGINT or SIGTERM to the sweep is passed on to
// the running child's whole group (mpirun and its ranks) before the sweep exits.
#pragma once
#include "core/err.h"

typedef struct {
    int exit_code;  // when it exited, else -1
    int signal;     // when a signal ended it, else 0
    int timed_out;  // we ended it at the timeout
    double wall_s;
} slm_proc_outcome;

// Installs the SIGINT/SIGTERM handlers that end the running child with the sweep.
void slm_process_forward_signals(void);
// Runs argv (argv[0] looked up in PATH) with env_name=env_value (unless
// env_name is NULL) added to its environment, stdout and stderr to log_path; waits at most
// timeout_s (then SIGTERM to the group, SIGKILL 5 s later). -1 with err when
// it could not be started.
int slm_process_run(char *const argv[], const char *env_name, const char *env_value, const char *log_path,
                    double timeout_s, slm_proc_outcome *out, slm_err *err);
