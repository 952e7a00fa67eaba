// results.h — a results file (JSON Lines of result records) read whole, for
// sweep (which points are done) and report. A line that is not a record
// stops the read with "PATH:LINE: what is wrong": nothing is skipped silently.
#pragma once
#include "core/record.h"

typedef struct {
    slm_record *recs;
    int n, cap;
} slm_results;

// Appends the records of path to res. A missing file is an error unless
// missing_ok (a sweep's first run). Blank lines are allowed.
int slm_results_read(const char *path, int missing_ok, slm_results *res, slm_err *err);
void slm_results_free(slm_results *res);
