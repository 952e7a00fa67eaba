// flags.c — parsing and --help for the flag tables of flags.h.
#include "cli/flags.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

static void print_help(const slm_flag *flags, int n, const char *usage, const char *description) {
    printf("usage: %s\n\n%s\n\nflags:\n", usage, description);
    for (int i = 0; i < n; i++) {
        const char *arg = flags[i].kind == FLAG_BOOL    ? ""
                          : flags[i].kind == FLAG_STR   ? " S"
                          : flags[i].kind == FLAG_BYTES ? " BYTES"
                          : flags[i].kind == FLAG_FLOAT ? " X"
                                                        : " N";
        char left[64];
        snprintf(left, sizeof left, "%s%s", flags[i].name, arg);
        printf("  %-24s %s\n", left, flags[i].help);
    }
    printf("  %-24s %s\n", "--help", "print this help");
}

static int64_t parse_i64(const char *flag, const char *s) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end) slm_die(SLM_EXIT_USAGE, "%s expects an integer, got '%s'", flag, s);
    return v;
}

static size_t parse_bytes(const char *flag, const char *s) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    double mult = 1;
    if (*end == 'K' || *end == 'k')
        mult = 1024.0, end++;
    else if (*end == 'M' || *end == 'm')
        mult = 1024.0 * 1024, end++;
    else if (*end == 'G' || *end == 'g')
        mult = 1024.0 * 1024 * 1024, end++;
    if (*end == 'B' || *end == 'b') end++;
    if (errno || end == s || *end || !(v >= 0) || v * mult > 1e18)
        slm_die(SLM_EXIT_USAGE, "%s expects a byte count like 512M or 40G, got '%s'", flag, s);
    if (v * mult < 1) slm_die(SLM_EXIT_USAGE, "%s %s is less than one byte (leave the flag out for no limit)", flag, s);
    return (size_t)(v * mult);
}

void slm_flag_list_check(const char *flag, const char *text) {
    const size_t n = strlen(text);
    if (!n || text[0] == ',' || text[n - 1] == ',' || strstr(text, ",,"))
        slm_die(SLM_EXIT_USAGE, "%s '%s' has an empty item (expected a comma-separated list)", flag, text);
}

void slm_flags_parse(const slm_flag *flags, int n_flags, int argc, char **argv, const char *usage,
                     const char *description) {
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            print_help(flags, n_flags, usage, description);
            exit(SLM_EXIT_OK);
        }
        const slm_flag *f = NULL;
        for (int j = 0; j < n_flags && !f; j++)
            if (!strcmp(arg, flags[j].name)) f = &flags[j];
        if (!f) slm_die(SLM_EXIT_USAGE, "unknown flag '%s' for '%s' (see slm %s --help)", arg, argv[0], argv[0]);
        if (f->seen) *f->seen = 1;
        if (f->kind == FLAG_BOOL) {
            *(int *)f->value = 1;
            continue;
        }
        if (i + 1 >= argc) slm_die(SLM_EXIT_USAGE, "%s needs a value (see slm %s --help)", arg, argv[0]);
        const char *val = argv[++i];
        switch (f->kind) {
            case FLAG_INT: {
                int64_t v = parse_i64(arg, val);
                if (v < -2147483647 || v > 2147483647) slm_die(SLM_EXIT_USAGE, "%s: %s is out of range", arg, val);
                *(int *)f->value = (int)v;
                break;
            }
            case FLAG_I64:
                *(int64_t *)f->value = parse_i64(arg, val);
                break;
            case FLAG_FLOAT: {
                char *end;
                errno = 0;
                double v = strtod(val, &end);
                if (errno || end == val || *end || !isfinite(v))
                    slm_die(SLM_EXIT_USAGE, "%s expects a number, got '%s'", arg, val);
                if (fabs(v) > FLT_MAX)
                    slm_die(SLM_EXIT_USAGE, "%s: %s is out of range (at most %g)", arg, val, FLT_MAX);
                *(float *)f->value = (float)v;
                break;
            }
            case FLAG_BYTES:
                *(size_t *)f->value = parse_bytes(arg, val);
                break;
            case FLAG_STR:
                *(const char **)f->value = val;
                break;
            case FLAG_BOOL:
                break;
        }
    }
}
