// util.c — the helpers of fuzz.h: failing loudly, error-message checks,
// the input as text, and a scratch directory for readers that take a path.
#include <dirent.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "testutil.h"

void fuzz_fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fuzz: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}

void fuzz_err_clear(slm_err *err) { err->msg[0] = 0; }

void fuzz_check_refusal(const slm_err *err, const char *reader) {
    if (!err->msg[0]) fuzz_fail("%s refused the input without a message", reader);
}

int fuzz_same_number(double a, double b) { return fabs(a - b) <= 4 * DBL_EPSILON * fmax(fabs(a), fabs(b)); }

char *fuzz_text(const uint8_t *data, size_t size) {
    char *text = slm_xmalloc(size + 1);
    if (size) memcpy(text, data, size);
    text[size] = 0;
    return text;
}

static char scratch[1024];

static void remove_scratch(void) {
    DIR *d = opendir(scratch);
    struct dirent *e;
    char path[4096 + 256];
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(path, sizeof path, "%s/%s", scratch, e->d_name);
            unlink(path);
        }
    if (d) closedir(d);
    rmdir(scratch);
}

const char *fuzz_dir(void) {
    if (scratch[0]) return scratch;
    const char *tmp = getenv("TMPDIR");
    int n = snprintf(scratch, sizeof scratch, "%s/slm_fuzz_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (n >= (int)sizeof scratch || !mkdtemp(scratch)) fuzz_fail("cannot make a scratch directory %s", scratch);
    atexit(remove_scratch);
    return scratch;
}

void fuzz_path(char *out, size_t len, const char *name) {
    if (snprintf(out, len, "%s/%s", fuzz_dir(), name) >= (int)len) fuzz_fail("the path of %s is too long", name);
}

void fuzz_write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f)) fuzz_fail("cannot write %s", path);
}

void fuzz_copy_fixture(const char *src) {
    const char *from = t_source_path(src), *base = strrchr(src, '/');
    FILE *f = fopen(from, "rb");
    if (!f) fuzz_fail("cannot open the fixture %s (run from the source tree or set SLM_SOURCE_DIR)", from);
    static unsigned char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    char to[4096];
    fuzz_path(to, sizeof to, base ? base + 1 : src);
    fuzz_write_file(to, buf, n);
}
