// test_err.c — SLM_ASSERT (core/err.h): a true condition does nothing; a
// false one exits with code 1 and one line on stderr, "slm: internal error at
// FILE:LINE: <message>", naming the file and line of the assertion (the path
// cut to what follows its last "src/" directory, for a file of the source tree).
// slm_quote: file text quoted into a message has its control characters
// written as \xNN and ends in "..." where it does not fit.
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/err.h"
#include "testutil.h"

// The message carries the line of the SLM_ASSERT, to compare with the one it reports.
static void fail_here(void) { SLM_ASSERT(1 + 1 == 3, "the sum is %d, expected 3 (line %d)", 1 + 1, __LINE__); }

static void fail_in_src(void);  // at the end of this file, under another file name

// Runs fn in a child with stderr into a pipe; returns the child's exit status
// (-1 when it did not exit) and what it wrote on stderr in out.
static int run_child(void (*fn)(void), char *out, size_t n) {
    int fd[2];
    if (pipe(fd)) return -1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        dup2(fd[1], STDERR_FILENO);
        fn();
        _exit(0);
    }
    close(fd[1]);
    size_t got = 0;
    ssize_t k;
    while (got + 1 < n && (k = read(fd[0], out + got, n - 1 - got)) > 0) got += (size_t)k;
    out[got] = 0;
    close(fd[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int lines(const char *s) {
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

int main(void) {
    SLM_ASSERT(1 + 1 == 2, "never printed");
    t_check(1, "a true SLM_ASSERT returns");

    char msg[1024];
    int code = run_child(fail_here, msg, sizeof msg);
    const char *file = strstr(msg, "test_err.c:");
    int reported = 0, line = -1;
    if (file) sscanf(file, "test_err.c:%d: the sum is 2, expected 3 (line %d)", &reported, &line);
    t_check(
        code == SLM_EXIT_FAIL && strstr(msg, "slm: internal error at ") == msg && reported == line && lines(msg) == 1,
        "a false SLM_ASSERT: exit %d (want 1), one line naming test_err.c:%d (the assertion's line %d): \"%.*s\"", code,
        reported, line, (int)strcspn(msg, "\n"), msg);

    code = run_child(fail_in_src, msg, sizeof msg);
    const char *want_src = "slm: internal error at core/example.c:5: in the source tree\n";
    t_check(code == SLM_EXIT_FAIL && !strcmp(msg, want_src),
            "in /home/user/src/slm/src/core/example.c: the path from the last src/ on: exit %d, \"%.*s\"", code,
            (int)strcspn(msg, "\n"), msg);

    slm_quoted q = slm_quote("a\x1b[31mred\tb\x7f");
    t_check(!strcmp(q.text, "a\\x1b[31mred\\x09b\\x7f"), "slm_quote escapes ESC, TAB and DEL: \"%s\"", q.text);
    char long_text[600];
    memset(long_text, 'x', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = 0;
    long_text[250] = '\n';
    q = slm_quote(long_text);
    size_t n = strlen(q.text);
    t_check(n < sizeof q.text && !strcmp(q.text + n - 3, "...") && !strchr(q.text, '\n'),
            "slm_quote of 599 bytes: %zu bytes ending in \"...\", no newline", n);
    return t_finish("test_err");
}

// Last in the file: every line from here on is reported as example.c's.
#line 5 "/home/user/src/slm/src/core/example.c"
static void fail_in_src(void) { SLM_ASSERT(0, "in the source tree"); }
