// test_jsonl.c — appends to a results file land whole or not at all
// (core/jsonl.h): a write cut short (here by the file-size limit, as a full
// disk cuts it) fails with one line and leaves the file byte for byte as it
// was; a file that ends in a torn line (no newline, not valid JSON) has it cut
// off before the append, and one whose whole last line lacks its newline gets
// one, so the appended line always stands on its own.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "core/jsonl.h"
#include "testutil.h"

// The whole file, NUL-terminated, in a static buffer ("" when unreadable).
static const char *contents(const char *path) {
    static char buf[1 << 16];
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) fclose(f);
    buf[n] = 0;
    return buf;
}

static const char *path_of(const char *name) {
    static char path[4096];
    snprintf(path, sizeof path, "%s", t_tmp_path(name));
    return path;
}

static const char LINE[] = "{\"schema\":1,\"status\":\"ok\",\"message\":\"a record of some length, as results hold\"}";

// An append that does not fit under the file-size limit: a short write, undone.
static void cut_short(void) {
    const char *path = path_of("short.jsonl");
    char before[256];
    snprintf(before, sizeof before, "%s\n", LINE);
    t_write_file("short.jsonl", before, strlen(before));
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = strlen(before) + 20;  // room for 20 bytes of the next line
    signal(SIGXFSZ, SIG_IGN);
    setrlimit(RLIMIT_FSIZE, &lim);
    slm_err err = {{0}};
    int rc = slm_jsonl_append(path, LINE, "the result record", &err);
    setrlimit(RLIMIT_FSIZE, &old);
    t_check(rc == -1 && strstr(err.msg, "the file is left as it was") && !strchr(err.msg, '\n'),
            "an append cut short after 20 bytes fails with one line: %s", err.msg);
    t_check(!strcmp(contents(path), before), "and the file is as it was (%zu bytes, no torn line)",
            strlen(contents(path)));
}

// Appends LINE to a file holding `start`; 0 when the file is then `start_kept` and LINE on a line of its own.
static int append_after(const char *name, const char *start, const char *start_kept) {
    const char *path = path_of(name);
    t_write_file(name, start, strlen(start));
    slm_err err;
    if (slm_jsonl_append(path, LINE, "the result record", &err)) return -1;
    char want[512];
    snprintf(want, sizeof want, "%s%s\n", start_kept, LINE);
    return strcmp(contents(path), want);
}

int main(void) {
    cut_short();
    char start[256];
    snprintf(start, sizeof start, "%s\n%.30s", LINE, LINE);
    char kept[256];
    snprintf(kept, sizeof kept, "%s\n", LINE);
    t_check(append_after("torn.jsonl", start, kept) == 0,
            "a file ending in a torn line (30 bytes, no newline): it is cut off and the record lands whole after it");
    snprintf(start, sizeof start, "%s", LINE);
    t_check(append_after("whole.jsonl", start, kept) == 0,
            "a file whose whole last line lacks its newline: it gets one, then the record");
    t_check(append_after("empty.jsonl", "", "") == 0, "an empty file: the record is its first line");
    return t_finish("test_jsonl");
}
