#include "testutil.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int t_failures = 0;
int t_checks = 0;

void t_check(int ok, const char *fmt, ...) {
    va_list ap;
    t_checks++;
    if (!ok) t_failures++;
    printf("%s ", ok ? "ok  " : "FAIL");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

double t_max_rel_err(const float *a, const float *b, size_t n, double floor) {
    double maxdiff = 0, maxref = floor;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (!isfinite(d)) return INFINITY;  // a NaN or inf anywhere is a failure
        if (d > maxdiff) maxdiff = d;
        if (fabs((double)b[i]) > maxref) maxref = fabs((double)b[i]);
    }
    return maxdiff / maxref;
}

uint64_t t_rand_u64(uint64_t *s) {
    // splitmix64
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void t_fill_uniform(float *x, size_t n, uint64_t *state, float lo, float hi) {
    for (size_t i = 0; i < n; i++) x[i] = lo + (hi - lo) * (float)((t_rand_u64(state) >> 40) / 16777216.0);
}

const char *t_source_path(const char *rel) {
    static char buf[4096];
    const char *root = getenv("SLM_SOURCE_DIR");
    snprintf(buf, sizeof buf, "%s/%s", root ? root : ".", rel);
    return buf;
}

int t_finish(const char *test_name) {
    printf("%s: %d checks, %d failed\n", test_name, t_checks, t_failures);
    return t_failures ? 1 : 0;
}

const char *t_tmpdir(void) {
    static char dir[] = "/tmp/slm_test_XXXXXX";
    static int made;
    if (!made && !mkdtemp(dir)) {
        fprintf(stderr, "cannot make a scratch directory under /tmp\n");
        exit(1);
    }
    made = 1;
    return dir;
}

const char *t_tmp_path(const char *name) {
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", t_tmpdir(), name);
    return buf;
}

unsigned char *t_read_file(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    *n = 0;
    if (!f) return NULL;
    long size = fseek(f, 0, SEEK_END) ? -1 : ftell(f);
    unsigned char *b = size >= 0 && !fseek(f, 0, SEEK_SET) ? malloc((size_t)size + 1) : NULL;
    if (b && fread(b, 1, (size_t)size, f) == (size_t)size) *n = (size_t)size;
    fclose(f);
    return b;
}

void t_write_file(const char *name, const void *data, size_t n) {
    const char *p = t_tmp_path(name);
    FILE *f = fopen(p, "wb");
    if (!f || fwrite(data, 1, n, f) != n || fclose(f)) {
        fprintf(stderr, "cannot write %s\n", p);
        exit(1);
    }
}

static uint64_t fnv_words(uint64_t h, const unsigned char *b, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, b + i, 8);
        h = (h ^ w) * 0x100000001b3ull;
    }
    for (; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

uint64_t t_ckpt_checksum(const unsigned char *file, size_t size) {
    enum { HEADER = 256, OFF_CHECKSUM = 140 };
    unsigned char head[HEADER];
    memcpy(head, file, HEADER);
    memset(head + OFF_CHECKSUM, 0, 8);
    return fnv_words(fnv_words(0xcbf29ce484222325ull, file + HEADER, size - HEADER), head, HEADER);
}
