// replay.c — main() for a fuzz target without libFuzzer: runs
// LLVMFuzzerTestOneInput once on each file named, and on each file of each
// directory named (the seed corpus, the regression inputs; a directory not
// made yet holds none). It fails when it ran no input at all. Every build runs
// the targets this way as tests (under ASan/UBSan in make sanitize), so an
// input that once crashed a reader keeps being checked.
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int run_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return fprintf(stderr, "replay: cannot open %s\n", path), 1;
    size_t cap = 4096, n = 0, got;
    uint8_t *buf = slm_xmalloc(cap);
    while ((got = fread(buf + n, 1, cap - n, f)) > 0)
        if ((n += got) == cap) {
            uint8_t *bigger = realloc(buf, cap *= 2);
            if (!bigger) return fprintf(stderr, "replay: out of memory reading %s\n", path), 1;
            buf = bigger;
        }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, n);
    free(buf);
    return 0;
}

// Runs every regular file of dir; *count adds how many.
static int run_dir(const char *dir, int *count) {
    DIR *d = opendir(dir);
    if (!d) return fprintf(stderr, "replay: cannot open %s\n", dir), 1;
    struct dirent *e;
    int bad = 0;
    char path[8192];
    while ((e = readdir(d))) {
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (e->d_name[0] == '.' || stat(path, &st) || !S_ISREG(st.st_mode)) continue;
        bad |= run_file(path);
        ++*count;
    }
    closedir(d);
    return bad;
}

int main(int argc, char **argv) {
    int bad = 0, count = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st))
            printf("replay: %s does not exist (no inputs there yet)\n", argv[i]);
        else if (S_ISDIR(st.st_mode))
            bad |= run_dir(argv[i], &count);
        else
            bad |= run_file(argv[i]), count++;
    }
    if (!count) fprintf(stderr, "replay: no inputs in %s\n", argc > 1 ? argv[1] : "(no paths given)");
    printf("replay: %d inputs, %s\n", count, bad ? "some unreadable" : "none crashed");
    return bad || !count;
}
