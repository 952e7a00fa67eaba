// rendezvous.c — rank 0's blob to every rank through a file or a TCP
// connection (rendezvous.h), and the job's place from the environment.
//
// On the wire and in the file, rank 0's message is [magic 8][world u32][blob
// 128]; over TCP a rank first says [magic 8][rank u32][world u32]. Integers are
// big-endian. Every wait polls against one deadline.
#include "parallel/rendezvous.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"

static const char MAGIC[8] = {'s', 'l', 'm', '-', 'r', 'd', 'v', '1'};
enum { MSG_BYTES = 8 + 4 + SLM_RENDEZVOUS_BYTES, HELLO_BYTES = 8 + 4 + 4 };

// ---- the environment ------------------------------------------------------------

// An integer variable in [lo, hi], or `fallback` when unset.
static int env_long(const char *name, long lo, long hi, long fallback, long *out, slm_err *err) {
    const char *v = getenv(name);
    if (!v || !*v) {
        *out = fallback;
        return 0;
    }
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || *end || x < lo || x > hi)
        return slm_fail(err, "%s=%s: expected an integer from %ld to %ld", name, v, lo, hi);
    *out = x;
    return 0;
}

int slm_job_from_env(slm_job_env *job, slm_err *err) {
    memset(job, 0, sizeof *job);
    long world = 1, rank = 0, local = 0;
    if (env_long("SLM_WORLD_SIZE", 1, 1L << 20, 1, &world, err) || env_long("SLM_RANK", 0, world - 1, 0, &rank, err) ||
        env_long("SLM_LOCAL_RANK", 0, world - 1, rank, &local, err))
        return -1;
    const char *spec = getenv("SLM_RENDEZVOUS");
    if (spec && strlen(spec) >= sizeof job->spec)
        return slm_fail(err, "SLM_RENDEZVOUS is %zu characters long: expected at most %zu", strlen(spec),
                        sizeof job->spec - 1);
    if (world > 1 && (!spec || !*spec))
        return slm_fail(err, "SLM_WORLD_SIZE=%ld needs SLM_RENDEZVOUS=file:PATH or tcp:HOST:PORT for the ranks to meet",
                        world);
    *job = (slm_job_env){(int)rank, (int)world, (int)local, ""};
    if (spec) snprintf(job->spec, sizeof job->spec, "%s", spec);
    return 0;
}

// ---- messages ---------------------------------------------------------------------

static void put_u32(unsigned char *p, uint32_t x) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(x >> (24 - 8 * i));
}

static uint32_t get_u32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void pack(unsigned char *msg, int world, const unsigned char *blob) {
    memcpy(msg, MAGIC, 8);
    put_u32(msg + 8, (uint32_t)world);
    memcpy(msg + 12, blob, SLM_RENDEZVOUS_BYTES);
}

// Rank 0's message into blob: -1 when it is not one, or is for another world size.
static int unpack(const char *spec, const unsigned char *msg, int world, unsigned char *blob, slm_err *err) {
    if (memcmp(msg, MAGIC, 8))
        return slm_fail(err, "rendezvous %s: what rank 0 left is not a rendezvous message", spec);
    uint32_t w = get_u32(msg + 8);
    if (w != (uint32_t)world)
        return slm_fail(err, "rendezvous %s: rank 0 runs a world of %u ranks, this rank one of %d (SLM_WORLD_SIZE)",
                        spec, w, world);
    memcpy(blob, msg + 12, SLM_RENDEZVOUS_BYTES);
    return 0;
}

static void nap_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int left_ms(double deadline) {
    double s = deadline - slm_now_s();
    return s <= 0 ? 0 : s > 1e6 ? 1000000000 : (int)(s * 1000) + 1;
}

// ---- file:PATH --------------------------------------------------------------------

static void ack_path(char *out, size_t n, const char *path, int r) { snprintf(out, n, "%s.ack%d", path, r); }

static void remove_all(const char *path, int world) {
    char ack[4200];
    unlink(path);
    for (int r = 1; r < world; r++) {
        ack_path(ack, sizeof ack, path, r);
        unlink(ack);
    }
}

static int file_rank0(const char *spec, const char *path, int world, const unsigned char *blob, double timeout_s,
                      slm_err *err) {
    if (access(path, F_OK) == 0)
        return slm_fail(err,
                        "rendezvous %s: %s already exists (left by an earlier job?): remove it or name another file",
                        spec, path);
    remove_all(path, world);  // acknowledgements a crashed job left
    unsigned char msg[MSG_BYTES];
    pack(msg, world, blob);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    int bad = !f || fwrite(msg, 1, sizeof msg, f) != sizeof msg;
    if (f && fclose(f)) bad = 1;
    if (bad || rename(tmp, path)) {
        int e = errno;
        unlink(tmp);
        return slm_fail(err, "rendezvous %s: cannot write %s: %s", spec, path, strerror(e));
    }
    const double deadline = slm_now_s() + timeout_s;
    char *seen = slm_xcalloc((size_t)world, 1);
    int arrived = 1, missing = 1;
    while (arrived < world) {
        for (int r = 1; r < world; r++) {
            char ack[4200];
            ack_path(ack, sizeof ack, path, r);
            if (!seen[r] && access(ack, F_OK) == 0) seen[r] = 1, arrived++;
        }
        if (arrived == world || slm_now_s() > deadline) break;
        nap_ms(10);
    }
    while (missing < world && seen[missing]) missing++;
    free(seen);
    remove_all(path, world);
    if (arrived < world)
        return slm_fail(err,
                        "rendezvous %s: %d of %d ranks arrived within %.3g s (rank %d is missing): start every rank "
                        "with the same SLM_RENDEZVOUS and SLM_WORLD_SIZE",
                        spec, arrived, world, timeout_s, missing);
    return 0;
}

static int file_rank(const char *spec, const char *path, int rank, int world, unsigned char *blob, double timeout_s,
                     slm_err *err) {
    const double deadline = slm_now_s() + timeout_s;
    unsigned char msg[MSG_BYTES];
    size_t got = 0;
    for (;;) {
        FILE *f = fopen(path, "rb");  // whole once it exists: rank 0 renames it into place
        if (f) {
            got = fread(msg, 1, sizeof msg, f);
            fclose(f);
        }
        if (got == sizeof msg || slm_now_s() > deadline) break;
        nap_ms(10);
    }
    if (got != sizeof msg)
        return slm_fail(err,
                        "rendezvous %s: rank 0 wrote no %s within %.3g s: start rank 0 with the same SLM_RENDEZVOUS",
                        spec, path, timeout_s);
    if (unpack(spec, msg, world, blob, err)) return -1;
    char ack[4200];
    ack_path(ack, sizeof ack, path, rank);
    FILE *f = fopen(ack, "wb");
    if (!f || fclose(f)) return slm_fail(err, "rendezvous %s: cannot write %s: %s", spec, ack, strerror(errno));
    return 0;
}

// ---- tcp:HOST:PORT ----------------------------------------------------------------

// Reads (or writes) all n bytes before the deadline; -1 on an error, an early close or the deadline.
static int io_all(int fd, unsigned char *buf, size_t n, int writing, double deadline) {
    size_t done = 0;
    while (done < n) {
        struct pollfd pf = {fd, writing ? POLLOUT : POLLIN, 0};
        int ms = left_ms(deadline);
        if (ms == 0) return -1;
        if (poll(&pf, 1, ms) <= 0) continue;
        ssize_t k = writing ? send(fd, buf + done, n - done, MSG_NOSIGNAL) : recv(fd, buf + done, n - done, 0);
        if (k == 0 || (k < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)) return -1;
        if (k > 0) done += (size_t)k;
    }
    return 0;
}

static int resolve(const char *spec, const char *host, const char *port, int passive, struct addrinfo **ai,
                   slm_err *err) {
    struct addrinfo hints = {0};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = passive ? AI_PASSIVE : 0;
    int rc = getaddrinfo(host, port, &hints, ai);
    if (rc) return slm_fail(err, "rendezvous %s: cannot resolve %s: %s", spec, host, gai_strerror(rc));
    return 0;
}

static int tcp_rank0(const char *spec, const char *host, const char *port, int world, const unsigned char *blob,
                     double timeout_s, slm_err *err) {
    struct addrinfo *ai;
    if (resolve(spec, host, port, 1, &ai, err)) return -1;
    int fd = -1, e = 0;
    for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
        if ((fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol)) < 0) continue;
        int on = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        if (bind(fd, a->ai_addr, a->ai_addrlen) || listen(fd, world)) {
            e = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(ai);
    if (fd < 0) return slm_fail(err, "rendezvous %s: cannot listen on %s:%s: %s", spec, host, port, strerror(e));
    unsigned char msg[MSG_BYTES];
    pack(msg, world, blob);
    const double deadline = slm_now_s() + timeout_s;
    char *seen = slm_xcalloc((size_t)world, 1);
    int arrived = 1, rc = 0;
    while (arrived < world && !rc) {
        struct pollfd pf = {fd, POLLIN, 0};
        int ms = left_ms(deadline);
        if (ms == 0) {
            int missing = 1;
            while (seen[missing]) missing++;
            rc = slm_fail(err,
                          "rendezvous %s: %d of %d ranks arrived within %.3g s (rank %d is missing): start every "
                          "rank with the same SLM_RENDEZVOUS and SLM_WORLD_SIZE",
                          spec, arrived, world, timeout_s, missing);
            break;
        }
        if (poll(&pf, 1, ms) <= 0) continue;
        int conn = accept(fd, NULL, NULL);
        if (conn < 0) continue;
        unsigned char hello[HELLO_BYTES];
        if (io_all(conn, hello, sizeof hello, 0, deadline) || memcmp(hello, MAGIC, 8)) {  // not one of ours
            close(conn);
            continue;
        }
        uint32_t r = get_u32(hello + 8), w = get_u32(hello + 12);
        if (io_all(conn, msg, sizeof msg, 1, deadline) == 0 && w == (uint32_t)world && r > 0 && r < (uint32_t)world &&
            !seen[r])
            seen[r] = 1, arrived++;
        else if (w != (uint32_t)world)  // it is told so by the message too
            rc = slm_fail(err, "rendezvous %s: rank %u runs a world of %u ranks, rank 0 one of %d (SLM_WORLD_SIZE)",
                          spec, r, w, world);
        else if (r == 0 || r >= (uint32_t)world || seen[r])
            rc = slm_fail(err, "rendezvous %s: a second rank %u arrived (SLM_RANK must differ on every rank)", spec, r);
        close(conn);
    }
    free(seen);
    close(fd);
    return rc;
}

// A connection to rank 0, retried until it listens or the deadline passes; -1 then.
static int tcp_connect(const struct addrinfo *ai, double deadline, int *last_errno) {
    for (;;) {
        for (const struct addrinfo *a = ai; a; a = a->ai_next) {
            int fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
            if (fd < 0) continue;
            fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
            int e = connect(fd, a->ai_addr, a->ai_addrlen) ? errno : 0;
            if (e == EINPROGRESS) {
                struct pollfd pf = {fd, POLLOUT, 0};
                int ms = left_ms(deadline);
                socklen_t len = sizeof e;
                e = poll(&pf, 1, ms < 1000 ? ms : 1000) == 1 && !getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len)
                        ? e
                        : ETIMEDOUT;
            }
            if (!e) return fd;
            *last_errno = e;
            close(fd);
        }
        if (slm_now_s() > deadline) return -1;
        nap_ms(20);
    }
}

static int tcp_rank(const char *spec, const char *host, const char *port, int rank, int world, unsigned char *blob,
                    double timeout_s, slm_err *err) {
    struct addrinfo *ai;
    if (resolve(spec, host, port, 0, &ai, err)) return -1;
    const double deadline = slm_now_s() + timeout_s;
    int e = ETIMEDOUT, fd = tcp_connect(ai, deadline, &e);
    freeaddrinfo(ai);
    if (fd < 0)
        return slm_fail(err,
                        "rendezvous %s: rank 0 did not listen on %s:%s within %.3g s (%s): start rank 0 with the same "
                        "SLM_RENDEZVOUS",
                        spec, host, port, timeout_s, strerror(e));
    unsigned char hello[HELLO_BYTES], msg[MSG_BYTES];
    memcpy(hello, MAGIC, 8);
    put_u32(hello + 8, (uint32_t)rank);
    put_u32(hello + 12, (uint32_t)world);
    int bad = io_all(fd, hello, sizeof hello, 1, deadline) || io_all(fd, msg, sizeof msg, 0, deadline);
    close(fd);
    if (bad)
        return slm_fail(err, "rendezvous %s: rank 0 took the connection but sent no reply within %.3g s", spec,
                        timeout_s);
    return unpack(spec, msg, world, blob, err);
}

// ---- the exchange -------------------------------------------------------------------

int slm_rendezvous(const char *spec, int rank, int world, unsigned char blob[SLM_RENDEZVOUS_BYTES], double timeout_s,
                   slm_err *err) {
    if (!strncmp(spec, "file:", 5) && spec[5]) {
        if (world == 1) return 0;
        return rank == 0 ? file_rank0(spec, spec + 5, world, blob, timeout_s, err)
                         : file_rank(spec, spec + 5, rank, world, blob, timeout_s, err);
    }
    const char *colon = strrchr(spec, ':');
    if (strncmp(spec, "tcp:", 4) || colon == spec + 3 || colon == spec + 4 || !colon[1] || strlen(colon + 1) > 5 ||
        strspn(colon + 1, "0123456789") != strlen(colon + 1) || atoi(colon + 1) < 1 || atoi(colon + 1) > 65535)
        return slm_fail(err, "SLM_RENDEZVOUS=%s: expected file:PATH or tcp:HOST:PORT (PORT from 1 to 65535)", spec);
    if (world == 1) return 0;
    char host[512];
    snprintf(host, sizeof host, "%.*s", (int)(colon - spec - 4), spec + 4);
    return rank == 0 ? tcp_rank0(spec, host, colon + 1, world, blob, timeout_s, err)
                     : tcp_rank(spec, host, colon + 1, rank, world, blob, timeout_s, err);
}
