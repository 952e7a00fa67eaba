// err.h — how slm.c reports errors.
// - Bad input (a flag, a configuration, a file, the data): the function
//   returns -1 and fills an slm_err with one line saying what was wrong and
//   what was expected; the CLI turns it into an exit, code 2 for bad usage and
//   code 1 for a run that failed. Two exceptions exit with code 2 from the
//   library itself: a launch of several ranks in a build without MPI
//   (slm_comm_open) and a malformed SLM_RANK / SLM_WORLD_SIZE / SLM_LOCAL_RANK /
//   SLM_RENDEZVOUS (slm_comm_world_for_backend).
// - A broken internal invariant (a bug, never the user's input): SLM_ASSERT,
//   exit 1 with "internal error at FILE:LINE: ...", in every build.
// - Out of host memory, a failed CUDA call in the backend (CUDA_CHECK) and a
//   failed CUDA or NCCL call in a collective: fatal, exit 1 through slm_die
//   (the backend's kernels and the collectives have no error return).
// - In a job of several ranks slm_die ends the whole job (slm_die_set_job),
//   and a failure of one rank that the others would wait on goes there
//   (slm_comm_fail_alone), so one rank's error never leaves the others in a
//   collective.
#pragma once
#include <stddef.h>

enum { SLM_EXIT_OK = 0, SLM_EXIT_FAIL = 1, SLM_EXIT_USAGE = 2 };

typedef struct {
    char msg[512];
} slm_err;

// Sets err->msg (printf-style) and returns -1, so callers can `return slm_fail(...)`.
int slm_fail(slm_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

// Text read from an input file, fit to quote in a message: each control
// character (a byte below 0x20, or 0x7f) is written as \xNN, so a file cannot
// move the cursor or recolour the terminal through an error; text longer than
// fits ends in "...". Use inside the call that formats it:
//   slm_fail(err, "unknown field \"%s\"", slm_quote(key).text)
typedef struct {
    char text[256];
} slm_quoted;
slm_quoted slm_quote(const char *s);
// Whether s holds a control character (one slm_quote would escape).
int slm_has_control(const char *s);

// Print "slm: <msg>" on stderr and exit with the code.
_Noreturn void slm_die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
// Print "slm: <msg>" on stderr and go on: a problem the run works around, said in one line.
void slm_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
// Called once by a communicator of several ranks: messages of slm_die start
// with `prefix` ("rank 1: ") and end the whole job through end_job, so one
// rank's failure never leaves the others waiting.
void slm_die_set_job(const char *prefix, void (*end_job)(int code));

// SLM_ASSERT(cond, fmt, ...): when cond is false, slm_die(SLM_EXIT_FAIL) with
// "internal error at FILE:LINE: <message>", FILE the path after its last
// "src/" ("backend/memory.c"). For invariants only the code can break (never
// for input); checked with NDEBUG too, and a multi-rank job ends as slm_die's.
#define SLM_ASSERT(cond, ...)                                          \
    do {                                                               \
        if (!(cond)) slm_assert_fail(__FILE__, __LINE__, __VA_ARGS__); \
    } while (0)
_Noreturn void slm_assert_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

// Host allocations outside the device memory tracker (small bookkeeping only).
// Out of memory here is fatal.
void *slm_xmalloc(size_t bytes);
void *slm_xcalloc(size_t n, size_t size);
void *slm_xrealloc(void *p, size_t bytes);
