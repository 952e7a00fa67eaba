// results.h — a results file (JSON Lines of result records) read whole, for
// sweep (which points are done) and report. A line that is not a record
// stops the read with "PATH:LINE: what is wrong": nothing is skipped silently.
// The one exception is a torn last line (no newline, not valid JSON: a write
// cut short, core/jsonl.h), which is skipped or cut off, said on stderr.
#pragma once
#include "core/record.h"

typedef struct {
    slm_record *recs;
    int n, cap;
} slm_results;

enum {
    SLM_RESULTS_MISSING_OK = 1,  // a missing file holds no records (a sweep's first run), else it is an error
    SLM_RESULTS_REPAIR = 2,      // a torn last line is cut off the file (a sweep that appends), else skipped
};
// Appends the records of path to res; flags as above. Blank lines are allowed.
int slm_results_read(const char *path, int flags, slm_results *res, slm_err *err);
void slm_results_free(slm_results *res);
// Whether one of the lines of the results file at path is `line` (trailing
// newlines aside): 1 or 0 (a missing file holds none); -1 with err when the
// file cannot be read.
int slm_results_holds(const char *path, const char *line, slm_err *err);

// One record per configuration of recs[in[0..n_in)]: records of the same
// config hash, device and source measured one configuration more than once
// (`slm sweep --rounds`); of those, the median ok record by step time (of an
// even count, the faster of the middle two), else the first. Fills out (n_in
// entries at most) in the order of each configuration's first record, and
// repeats (NULL: not wanted) with how many records each stands for; returns
// the count.
int slm_results_median_per_config(const slm_record *recs, const int *in, int n_in, int *out, int *repeats);
// Of recs[in[0..n_in)], the index (into recs) of the median ok record by step
// time, the faster of the middle two of an even count; -1 when none is ok.
int slm_results_median_of(const slm_record *recs, const int *in, int n_in);
