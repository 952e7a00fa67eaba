// testutil.h — small helpers shared by the C tests. Each test prints every
// check it makes ("ok   …" / "FAIL …") and exits non-zero if any failed.
#pragma once
#include <stddef.h>
#include <stdint.h>

extern int t_failures;
extern int t_checks;

// Records one check: prints "ok   <what>" or "FAIL <what>".
void t_check(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
// Max relative error max|a-b| / max(max|b|, floor) over n values.
double t_max_rel_err(const float *a, const float *b, size_t n, double floor);
// Deterministic uniform floats in [lo, hi).
void t_fill_uniform(float *x, size_t n, uint64_t *state, float lo, float hi);
uint64_t t_rand_u64(uint64_t *state);
// Path of a file in the source tree (SLM_SOURCE_DIR, else the working directory).
const char *t_source_path(const char *rel);
// A scratch directory for the test's files, made (mkdtemp under /tmp) on the
// first call; a path in it (a static buffer: use it before the next call);
// a whole file written there, exiting the test if that fails.
const char *t_tmpdir(void);
const char *t_tmp_path(const char *name);
void t_write_file(const char *name, const void *data, size_t n);
// The documented checksum of a whole checkpoint shard file of size >= 256
// bytes (docs/formats.md: FNV-1a style over 64-bit words of the payload, then
// of the 256-byte header with its checksum field, bytes 140..147, zero).
uint64_t t_ckpt_checksum(const unsigned char *file, size_t size);
// The whole file at path (malloc'd, *n bytes), or NULL with *n = 0 when it cannot be read.
unsigned char *t_read_file(const char *path, size_t *n);
// Prints the summary line and returns the exit code for main.
int t_finish(const char *test_name);
