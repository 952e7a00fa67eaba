// flags.h — one table-driven flag parser for every subcommand.
// A command lists its flags (name, kind, where the value goes, help); the
// parser fills them, prints --help from the same table, and turns an unknown
// flag, a missing value or a malformed number into one line and exit code 2.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef enum {
    FLAG_INT,    // int
    FLAG_I64,    // int64_t
    FLAG_FLOAT,  // float
    FLAG_BYTES,  // size_t, suffixes K, M, G (binary)
    FLAG_STR,    // const char * (points into argv)
    FLAG_BOOL,   // int set to 1, takes no value
} slm_flag_kind;

typedef struct {
    const char *name;  // "--micro-batch"
    slm_flag_kind kind;
    void *value;
    const char *help;
    int *seen;  // optional: set to 1 when the flag was given
} slm_flag;

// A comma-separated value of `flag` ("A100-40GB,H100-80GB", "1,2,4"): exits
// with a usage error when it is empty or has an empty item ("1,,2", "a,").
void slm_flag_list_check(const char *flag, const char *text);

// Parses text as the value of a flag of this kind into out (an int, int64_t,
// float, size_t or const char * as the kind says; NULL: only checks it): -1
// with err (one line naming the flag) when it is not one, as slm_flags_parse
// would refuse it. FLAG_BOOL takes no value.
int slm_flag_value(slm_flag_kind kind, const char *flag, const char *text, void *out, slm_err *err);

// Parses argv[1..argc-1] (argv[0] is the subcommand). `--help` prints the usage
// line, the description and the table, and exits 0.
void slm_flags_parse(const slm_flag *flags, int n_flags, int argc, char **argv, const char *usage,
                     const char *description);
