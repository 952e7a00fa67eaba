// fuzz.h — what the fuzz targets of tests/fuzz share. Each fuzz_<reader>.c
// defines LLVMFuzzerTestOneInput for one reader of a file slm reads; it is
// linked with libFuzzer (the SLM_FUZZ build, clang) or with replay.c, which
// runs it over given files (the regression tests of every build).
// A target returns 0 for any input; a bug it finds is a sanitizer report or
// fuzz_fail, which prints what broke and aborts.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

// Prints "fuzz: <what>" on stderr and aborts (a crash to libFuzzer).
_Noreturn void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
// A reader that refused an input must have said why: a non-empty one-line
// message (err->msg is cleared by fuzz_err_clear before the call).
void fuzz_err_clear(slm_err *err);
void fuzz_check_refusal(const slm_err *err, const char *reader);
// a and b are the same number as far as a JSON file written by cJSON keeps
// it: cJSON prints 15 significant digits when they read back within
// DBL_EPSILON, else 17.
int fuzz_same_number(double a, double b);
// The input as a NUL-terminated string (malloc'd; free it).
char *fuzz_text(const uint8_t *data, size_t size);
// The scratch directory of this process, under $TMPDIR (else /tmp), made on
// the first call and removed with its files at exit.
const char *fuzz_dir(void);
// out (len bytes) = fuzz_dir()/name.
void fuzz_path(char *out, size_t len, const char *name);
// Writes n bytes to path (a whole file), failing loudly when it cannot.
void fuzz_write_file(const char *path, const void *data, size_t n);
// Copies the file at src (a path in the source tree, see t_source_path) to
// the scratch directory under its own base name.
void fuzz_copy_fixture(const char *src);
