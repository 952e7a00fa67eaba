#include "measure/process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"

static volatile sig_atomic_t child_pgid;

static void on_signal(int sig) {
    if (child_pgid > 0) kill(-child_pgid, SIGTERM);
    signal(sig, SIG_DFL);
    raise(sig);
}

void slm_process_forward_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static void sleep_s(double s) {
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

int slm_process_run(char *const argv[], const char *env_name, const char *env_value, const char *log_path,
                    double timeout_s, slm_proc_outcome *out, slm_err *err) {
    memset(out, 0, sizeof *out);
    out->exit_code = -1;
    int log = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (log < 0) return slm_fail(err, "cannot write the point's log %s", log_path);
    double t0 = slm_now_s();
    pid_t pid = fork();
    if (pid < 0) {
        close(log);
        return slm_fail(err, "cannot start a process: %s", strerror(errno));
    }
    if (pid == 0) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(log, STDOUT_FILENO);
        dup2(log, STDERR_FILENO);
        close(log);
        if (env_name) setenv(env_name, env_value, 1);
        execvp(argv[0], argv);
        fprintf(stderr, "slm: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(log);
    setpgid(pid, pid);  // also here, so that a signal right after fork finds the group
    child_pgid = pid;
    int status = 0, killed = 0;
    double kill_at = 0;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        double now = slm_now_s() - t0;
        if (timeout_s > 0 && now > timeout_s && !out->timed_out) {
            out->timed_out = 1;
            kill(-pid, SIGTERM);
            kill_at = now + 5.0;
        } else if (out->timed_out && !killed && now > kill_at) {
            killed = 1;
            kill(-pid, SIGKILL);
        }
        sleep_s(0.05);
    }
    child_pgid = 0;
    if (out->timed_out) kill(-pid, SIGKILL);  // ranks mpirun left behind
    out->wall_s = slm_now_s() - t0;
    if (WIFEXITED(status)) out->exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) out->signal = WTERMSIG(status);
    return 0;
}
