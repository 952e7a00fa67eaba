// grid.h — a sweep's grid file: a JSON object whose keys are bench flags
// (underscores for dashes: "micro_batch" is --micro-batch) plus "world_size"
// (ranks, launched by mpirun), "timeout_s" (per point) and "about" (a text
// for the reader, ignored). A list is a
// dimension; a single value is fixed for every point. Points are the product
// of the dimensions, the first key varying slowest.
#pragma once
#include <stdint.h>

#include "cli/flags.h"
#include "core/err.h"

enum { SLM_GRID_MAX_DIMS = 48 };

typedef struct {
    char key[48];   // "micro_batch", "world_size", …
    char flag[52];  // "--micro-batch"; "" for world_size
    slm_flag_kind kind;
    int line;       // where the key is in the file, for messages
    int n;          // values
    char **values;  // as command-line text; NULL: the flag is left out (null, false)
} slm_grid_dim;

typedef struct {
    char path[1024];
    int n_dims;
    slm_grid_dim dims[SLM_GRID_MAX_DIMS];
    double timeout_s;  // 0: not given
    int64_t n_points;
} slm_grid;

// Reads and checks the grid against the bench's flag table: every key a
// flag (or world_size, timeout_s), every value of the flag's type. -1 with
// err "PATH:LINE: …" otherwise.
int slm_grid_load(const char *path, const slm_flag *flags, int n_flags, slm_grid *g, slm_err *err);
// The same from the file's text (NUL-terminated; path for messages).
int slm_grid_parse(const char *text, const char *path, const slm_flag *flags, int n_flags, slm_grid *g, slm_err *err);
// The value index of each dimension at point i (0 <= i < n_points).
void slm_grid_point(const slm_grid *g, int64_t i, int *choice);
// The dimension with this key, or NULL.
const slm_grid_dim *slm_grid_dim_of(const slm_grid *g, const char *key);
void slm_grid_free(slm_grid *g);
