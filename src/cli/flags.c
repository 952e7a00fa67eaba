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

static int parse_i64(const char *flag, const char *s, int64_t *out, slm_err *err) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end) return slm_fail(err, "%s expects an integer, got '%s'", flag, s);
    *out = v;
    return 0;
}

static int parse_float(const char *flag, const char *s, float *out, slm_err *err) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v)) return slm_fail(err, "%s expects a number, got '%s'", flag, s);
    if (fabs(v) > FLT_MAX) return slm_fail(err, "%s: %s is out of range (at most %g)", flag, s, FLT_MAX);
    *out = (float)v;
    return 0;
}

static int parse_bytes(const char *flag, const char *s, size_t *out, slm_err *err) {
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
        return slm_fail(err, "%s expects a byte count like 512M or 40G, got '%s'", flag, s);
    if (v * mult < 1) return slm_fail(err, "%s %s is less than one byte (leave the flag out for no limit)", flag, s);
    *out = (size_t)(v * mult);
    return 0;
}

int slm_flag_value(slm_flag_kind kind, const char *flag, const char *text, void *out, slm_err *err) {
    union {
        int64_t i64;
        float f;
        size_t bytes;
    } v = {0};
    switch (kind) {
        case FLAG_INT:
            if (parse_i64(flag, text, &v.i64, err)) return -1;
            if (v.i64 < -2147483647 || v.i64 > 2147483647) return slm_fail(err, "%s: %s is out of range", flag, text);
            if (out) *(int *)out = (int)v.i64;
            return 0;
        case FLAG_I64:
            if (parse_i64(flag, text, &v.i64, err)) return -1;
            if (out) *(int64_t *)out = v.i64;
            return 0;
        case FLAG_FLOAT:
            if (parse_float(flag, text, &v.f, err)) return -1;
            if (out) *(float *)out = v.f;
            return 0;
        case FLAG_BYTES:
            if (parse_bytes(flag, text, &v.bytes, err)) return -1;
            if (out) *(size_t *)out = v.bytes;
            return 0;
        case FLAG_STR:
            if (out) *(const char **)out = text;
            return 0;
        case FLAG_BOOL:
            break;
    }
    return slm_fail(err, "%s takes no value", flag);
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
        slm_err err;
        if (slm_flag_value(f->kind, arg, argv[++i], f->value, &err)) slm_die(SLM_EXIT_USAGE, "%s", err.msg);
    }
}
