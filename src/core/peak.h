// peak.h — the cache of measured GEMM peaks that MFU is computed against.
// `slm peak` measures a machine's peak (the backend's gemm_flops_per_s) and
// stores it here; train and bench look it up. An entry is keyed by the
// backend's device string, which names the CPU model and the thread count
// ("AMD EPYC (2 threads)"), and by dtype, so a run on 1 thread never borrows
// the 2-thread figure. No entry means no MFU (null in the record), never a
// guessed peak.
//
// The cache is one JSON file, peak.json, in $SLM_CACHE_DIR, else
// $XDG_CACHE_HOME/slm, else $HOME/.cache/slm:
//   {"peaks":[{"device":"AMD EPYC (2 threads)","dtype":"fp32","flops_per_s":1.4e11,
//              "method":"OpenBLAS sgemm (...), n=4096, best of 3","date":"2026-11-22T19:30:00Z"}]}
#pragma once
#include <stddef.h>

#include "core/err.h"

typedef struct {
    double flops_per_s;
    char method[256];  // what was measured: library, size, repetitions
    char date[32];
} slm_peak;

// The cache file's path (its directory is made by slm_peak_store).
void slm_peak_cache_path(char *out, size_t len);
// 0 with *p filled when the cache holds (device, dtype) with a positive finite
// peak; -1 when it does not (no file, no entry, an unreadable file or a figure
// that is not a peak: all mean "not measured").
int slm_peak_lookup(const char *device, const char *dtype, slm_peak *p);
// Adds or replaces the (device, dtype) entry, keeping the others; atomic write.
int slm_peak_store(const char *device, const char *dtype, const slm_peak *p, slm_err *err);
// "MFU source" line for records and summaries: "slm peak: <method>, <date>".
void slm_peak_describe(const slm_peak *p, char *out, size_t len);
