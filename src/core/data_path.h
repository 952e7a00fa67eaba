// data_path.h — where a file slm.c ships under data/ (the hardware catalog,
// the prices, the grids) is found when the user names none: data/NAME under
// the working directory, else BIN/../data/NAME beside the binary's directory
// (the repository's data/ for build/slm, whatever the working directory).
#pragma once
#include <stddef.h>

// The first of those two paths that is readable, written into out (len
// bytes) and returned; NULL when neither is (or the path does not fit).
// `name` is relative to data/: "hardware.json", "grids/gpu-study.json".
const char *slm_data_path(const char *name, char *out, size_t len);
