// test_rendezvous.c — the rendezvous that gives NCCL's unique id to every rank
// of a job started without MPI (rendezvous.h). Three forked processes exchange
// a 128-byte blob through a file and through TCP on 127.0.0.1, and every rank
// must end with rank 0's bytes; a rank alone times out with one line naming
// the rendezvous; a file left behind is refused; the environment is read and
// checked (SLM_RANK, SLM_WORLD_SIZE, SLM_LOCAL_RANK, SLM_RENDEZVOUS).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "parallel/rendezvous.h"
#include "testutil.h"

enum { WORLD = 3 };

// What a child reports through its pipe: its rendezvous's return, the blob it holds, its message.
typedef struct {
    int rc;
    unsigned char blob[SLM_RENDEZVOUS_BYTES];
    char msg[512];
} report;

// Runs `ranks` ranks of a world of `world` in forked children, rank r given
// rank r's starting blob (rank 0's is `mine`, the others zeros); reports[r] is what rank r ended with.
static void run_ranks(const char *spec, int ranks, int world, const unsigned char *mine, double timeout_s,
                      report *reports) {
    pid_t pid[WORLD];
    int fds[WORLD][2];
    fflush(stdout);
    for (int r = 0; r < ranks; r++) {
        if (pipe(fds[r])) exit(99);
        if ((pid[r] = fork()) == 0) {
            report out = {0};
            if (r == 0) memcpy(out.blob, mine, sizeof out.blob);
            slm_err err = {{0}};
            out.rc = slm_rendezvous(spec, r, world, out.blob, timeout_s, &err);
            memcpy(out.msg, err.msg, sizeof out.msg);
            _exit(write(fds[r][1], &out, sizeof out) == (ssize_t)sizeof out ? 0 : 1);
        }
        close(fds[r][1]);
    }
    for (int r = 0; r < ranks; r++) {
        memset(&reports[r], 0, sizeof reports[r]);
        reports[r].rc = -99;
        if (read(fds[r][0], &reports[r], sizeof reports[r]) != (ssize_t)sizeof reports[r]) reports[r].rc = -99;
        close(fds[r][0]);
        waitpid(pid[r], NULL, 0);
    }
}

// A TCP port nobody listens on now (the kernel's choice for port 0).
static int free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || getsockname(fd, (struct sockaddr *)&a, &len)) exit(99);
    close(fd);
    return ntohs(a.sin_port);
}

static void check_exchange(const char *spec, const unsigned char *blob) {
    report got[WORLD];
    run_ranks(spec, WORLD, WORLD, blob, 20.0, got);
    for (int r = 0; r < WORLD; r++)
        t_check(got[r].rc == 0 && !memcmp(got[r].blob, blob, SLM_RENDEZVOUS_BYTES),
                "%s: rank %d of %d holds rank 0's 128 bytes (rc %d%s%s)", spec, r, WORLD, got[r].rc,
                got[r].msg[0] ? ": " : "", got[r].msg);
}

// A lone rank `rank` waits timeout_s and fails with one line naming the rendezvous and saying `want`.
static void check_timeout(const char *spec, int rank, const char *want) {
    report got[WORLD];
    unsigned char blob[SLM_RENDEZVOUS_BYTES] = {1};
    slm_err err = {{0}};
    if (rank == 0) {
        run_ranks(spec, 1, WORLD, blob, 0.3, got);
    } else {  // in this process: a rank other than 0 alone
        got[0].rc = slm_rendezvous(spec, rank, WORLD, blob, 0.3, &err);
        memcpy(got[0].msg, err.msg, sizeof got[0].msg);
    }
    char named[600];
    snprintf(named, sizeof named, "rendezvous %s: ", spec);
    t_check(got[0].rc == -1 && !strncmp(got[0].msg, named, strlen(named)) && strstr(got[0].msg, want) &&
                !strchr(got[0].msg, '\n'),
            "rank %d alone times out in 0.3 s: \"%s\"", rank, got[0].msg);
}

// A rank started for a world of 2 meets a rank 0 of 3: it refuses, over a file and over TCP.
static void check_mismatch(const unsigned char *blob) {
    char spec[2][600];
    snprintf(spec[0], sizeof spec[0], "file:%s", t_tmp_path("rdv_mismatch"));
    snprintf(spec[1], sizeof spec[1], "tcp:127.0.0.1:%d", free_port());
    for (int k = 0; k < 2; k++) {
        report got[1];
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {  // rank 1 of 2, in a child; rank 0 of 3 below
            unsigned char b[SLM_RENDEZVOUS_BYTES] = {0};
            slm_err err = {{0}};
            int rc = slm_rendezvous(spec[k], 1, 2, b, 5.0, &err);
            _exit(rc == -1 && strstr(err.msg, "rank 0 runs a world of 3 ranks, this rank one of 2") ? 0 : 1);
        }
        run_ranks(spec[k], 1, WORLD, blob, 0.5, got);
        int st = 0;
        waitpid(pid, &st, 0);
        t_check(WIFEXITED(st) && WEXITSTATUS(st) == 0 && got[0].rc == -1,
                "%s: a rank of a world of 2 refuses rank 0's of 3, and rank 0 does not go on (\"%s\")", spec[k],
                got[0].msg);
    }
}

static void check_env(const char *world, const char *rank, const char *local, const char *spec, const char *want,
                      int want_rank, int want_world, int want_local) {
    const char *vars[4] = {"SLM_WORLD_SIZE", "SLM_RANK", "SLM_LOCAL_RANK", "SLM_RENDEZVOUS"};
    const char *vals[4] = {world, rank, local, spec};
    for (int i = 0; i < 4; i++) vals[i] ? setenv(vars[i], vals[i], 1) : unsetenv(vars[i]);
    slm_job_env job;
    slm_err err = {{0}};
    int rc = slm_job_from_env(&job, &err);
    if (want)
        t_check(rc == -1 && !strcmp(err.msg, want), "env world=%s rank=%s local=%s: \"%s\"", world ? world : "-",
                rank ? rank : "-", local ? local : "-", err.msg);
    else
        t_check(rc == 0 && job.rank == want_rank && job.world == want_world && job.local_rank == want_local &&
                    !strcmp(job.spec, spec ? spec : ""),
                "env world=%s rank=%s local=%s: rank %d of %d, local rank %d, \"%s\"", world ? world : "-",
                rank ? rank : "-", local ? local : "-", job.rank, job.world, job.local_rank, job.spec);
    for (int i = 0; i < 4; i++) unsetenv(vars[i]);
}

int main(void) {
    unsigned char blob[SLM_RENDEZVOUS_BYTES];
    uint64_t s = 42;
    for (int i = 0; i < SLM_RENDEZVOUS_BYTES; i++) blob[i] = (unsigned char)(t_rand_u64(&s) | 1);  // no zero byte

    char spec[600];
    snprintf(spec, sizeof spec, "file:%s", t_tmp_path("rdv"));
    check_exchange(spec, blob);
    t_check(access(t_tmp_path("rdv"), F_OK) != 0 && access(t_tmp_path("rdv.ack1"), F_OK) != 0,
            "file: rank 0 removed the file and the acknowledgements once all had read it");
    check_exchange(spec, blob);  // so a second job may use the same path
    check_timeout(spec, 1, "rank 0 wrote no");
    check_timeout(spec, 0, "1 of 3 ranks arrived within 0.3 s (rank 1 is missing)");
    t_write_file("rdv", "stale", 5);
    report got[1];
    run_ranks(spec, 1, WORLD, blob, 0.3, got);
    t_check(got[0].rc == -1 && strstr(got[0].msg, "already exists"),
            "file: one left by an earlier job is refused: \"%s\"", got[0].msg);
    unlink(t_tmp_path("rdv"));

    snprintf(spec, sizeof spec, "tcp:127.0.0.1:%d", free_port());
    check_exchange(spec, blob);
    check_exchange(spec, blob);  // the port is free again at once (SO_REUSEADDR)
    snprintf(spec, sizeof spec, "tcp:127.0.0.1:%d", free_port());
    check_timeout(spec, 1, "rank 0 did not listen on 127.0.0.1:");
    check_timeout(spec, 0, "1 of 3 ranks arrived within 0.3 s (rank 1 is missing)");

    check_mismatch(blob);

    unsigned char mine[SLM_RENDEZVOUS_BYTES] = {7};
    slm_err err = {{0}};
    const char *bad[] = {"tcp:host", "tcp::80", "tcp:h:0", "tcp:h:99999", "udp:h:80", "file:"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = slm_rendezvous(bad[i], 1, WORLD, mine, 0.1, &err);
        t_check(rc == -1 && strstr(err.msg, "expected file:PATH or tcp:HOST:PORT"), "SLM_RENDEZVOUS=%s refused: \"%s\"",
                bad[i], err.msg);
    }
    t_check(slm_rendezvous("tcp:127.0.0.1:9", 0, 1, mine, 0.1, &err) == 0 && mine[0] == 7,
            "world size 1: nothing to exchange, the blob unchanged");

    check_env(NULL, NULL, NULL, NULL, NULL, 0, 1, 0);
    check_env("4", "2", NULL, "tcp:node1:29500", NULL, 2, 4, 2);
    check_env("8", "5", "1", "file:/shared/rdv", NULL, 5, 8, 1);
    check_env("4", "4", NULL, "file:/x", "SLM_RANK=4: expected an integer from 0 to 3", 0, 0, 0);
    check_env("2", "1", "x", "file:/x", "SLM_LOCAL_RANK=x: expected an integer from 0 to 1", 0, 0, 0);
    check_env("0", NULL, NULL, NULL, "SLM_WORLD_SIZE=0: expected an integer from 1 to 1048576", 0, 0, 0);
    check_env("2", "1", NULL, NULL,
              "SLM_WORLD_SIZE=2 needs SLM_RENDEZVOUS=file:PATH or tcp:HOST:PORT for the ranks to meet", 0, 0, 0);
    return t_finish("test_rendezvous");
}
