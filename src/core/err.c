#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int slm_fail(slm_err *err, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static const char *g_prefix = "";
static void (*g_end_job)(int code);

void slm_die_set_job(const char *prefix, void (*end_job)(int code)) {
    g_prefix = prefix;
    g_end_job = end_job;
}

void slm_die(int code, const char *fmt, ...) {
    va_list ap;
    fflush(stdout);
    fprintf(stderr, "slm: %s", g_prefix);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (g_end_job) g_end_job(code);
    exit(code);
}

void slm_assert_fail(const char *file, int line, const char *fmt, ...) {
    // the path from the source tree's src/ on: "backend/memory.c"
    for (const char *p = strstr(file, "src/"); p; p = strstr(p + 1, "src/"))
        if (p == file || p[-1] == '/') file = p + 4;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    slm_die(SLM_EXIT_FAIL, "internal error at %s:%d: %s", file, line, msg);
}

void *slm_xmalloc(size_t bytes) {
    void *p = malloc(bytes ? bytes : 1);
    if (!p) slm_die(SLM_EXIT_FAIL, "out of host memory allocating %zu bytes", bytes);
    return p;
}

void *slm_xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) slm_die(SLM_EXIT_FAIL, "out of host memory allocating %zu x %zu bytes", n, size);
    return p;
}
