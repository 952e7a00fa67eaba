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

static int is_control(unsigned char c) { return c < 0x20 || c == 0x7f; }

int slm_has_control(const char *s) {
    for (; *s; s++)
        if (is_control((unsigned char)*s)) return 1;
    return 0;
}

slm_quoted slm_quote(const char *s) {
    slm_quoted q;
    const size_t room = sizeof q.text - 4;  // "..." and the NUL
    size_t n = 0;
    for (; *s && n < room; s++) {
        unsigned char c = (unsigned char)*s;
        if (!is_control(c)) {
            q.text[n++] = (char)c;
        } else if (n + 4 <= room) {
            snprintf(q.text + n, 5, "\\x%02x", c);
            n += 4;
        } else {
            break;
        }
    }
    snprintf(q.text + n, sizeof q.text - n, "%s", *s ? "..." : "");
    return q;
}

static const char *g_prefix = "";
static void (*g_end_job)(int code);

void slm_die_set_job(const char *prefix, void (*end_job)(int code)) {
    g_prefix = prefix;
    g_end_job = end_job;
}

static void say(const char *fmt, va_list ap) {
    fflush(stdout);
    fprintf(stderr, "slm: %s", g_prefix);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void slm_die(int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    say(fmt, ap);
    va_end(ap);
    if (g_end_job) g_end_job(code);
    exit(code);
}

void slm_warn(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    say(fmt, ap);
    va_end(ap);
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

void *slm_xrealloc(void *p, size_t bytes) {
    p = realloc(p, bytes ? bytes : 1);
    if (!p) slm_die(SLM_EXIT_FAIL, "out of host memory reallocating %zu bytes", bytes);
    return p;
}
