#include "measure/results.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonl.h"

int slm_results_read(const char *path, int flags, slm_results *res, slm_err *err) {
    FILE *f = fopen(path, "r");
    if (!f) {
        if ((flags & SLM_RESULTS_MISSING_OK) && errno == ENOENT) return 0;
        return slm_fail(err, "cannot open results file %s", path);
    }
    char *line = NULL;
    size_t cap = 0;
    int line_no = 0, ret = 0;
    long long at = 0;  // the byte the line begins at
    for (ssize_t len; (len = getline(&line, &cap, f)) >= 0; at += len) {
        line_no++;
        if (strspn(line, " \t\r\n") == strlen(line)) continue;
        if (slm_jsonl_torn(line, (size_t)len)) {  // the last line, without its newline
            if (flags & SLM_RESULTS_REPAIR)
                ret = slm_jsonl_cut(path, at, (size_t)len, err);
            else
                slm_jsonl_say_torn(path, at, (size_t)len, "skipped it");
            break;
        }
        if (res->n == res->cap) {
            res->cap = res->cap ? 2 * res->cap : 64;
            res->recs = realloc(res->recs, (size_t)res->cap * sizeof *res->recs);
            if (!res->recs) slm_die(SLM_EXIT_FAIL, "out of host memory reading %s", path);
        }
        slm_err why;
        if (slm_record_parse(line, &res->recs[res->n], &why)) {
            ret = slm_fail(err, "%s:%d: not a result record: %s", path, line_no, why.msg);
            break;
        }
        res->n++;
    }
    free(line);
    fclose(f);
    return ret;
}

static size_t without_newlines(const char *s) {
    size_t n = strlen(s);
    while (n && s[n - 1] == '\n') n--;
    return n;
}

int slm_results_holds(const char *path, const char *line, slm_err *err) {
    FILE *f = fopen(path, "r");
    if (!f) return errno == ENOENT ? 0 : slm_fail(err, "cannot open results file %s", path);
    const size_t n = without_newlines(line);
    char *l = NULL;
    size_t cap = 0;
    int found = 0;
    while (!found && getline(&l, &cap, f) >= 0) found = without_newlines(l) == n && !memcmp(l, line, n);
    free(l);
    fclose(f);
    return found;
}

// Records a and b (of in[]) measured one configuration on one device, both measured or both predicted.
static int same_config(char (*hash)[17], const slm_record *recs, const int *in, int a, int b) {
    const slm_record *x = &recs[in[a]], *y = &recs[in[b]];
    return !strcmp(hash[a], hash[b]) && !strcmp(x->device, y->device) && !strcmp(x->source, y->source);
}

int slm_results_median_of(const slm_record *recs, const int *in, int n_in) {
    int *ok = slm_xcalloc((size_t)n_in + 1, sizeof(int)), n_ok = 0;
    for (int b = 0; b < n_in; b++) {
        const slm_record *r = &recs[in[b]];
        if (strcmp(r->status, "ok") || !(r->step_time_s > 0)) continue;
        int j = n_ok++;  // insertion by step time: a configuration has a few records
        for (; j > 0 && recs[ok[j - 1]].step_time_s > r->step_time_s; j--) ok[j] = ok[j - 1];
        ok[j] = in[b];
    }
    int median = n_ok ? ok[(n_ok - 1) / 2] : -1;
    free(ok);
    return median;
}

int slm_results_median_per_config(const slm_record *recs, const int *in, int n_in, int *out, int *repeats) {
    // each record's configuration: its config hash as read from a file, or from its fields (made in memory)
    char(*hash)[17] = slm_xcalloc((size_t)n_in + 1, sizeof *hash);
    for (int a = 0; a < n_in; a++) {
        const slm_record *r = &recs[in[a]];
        if (r->config_hash[0])
            snprintf(hash[a], sizeof hash[a], "%s", r->config_hash);
        else
            slm_config_hash(&r->run, hash[a]);
    }
    int *group = slm_xcalloc((size_t)n_in + 1, sizeof(int)), k = 0;
    for (int a = 0; a < n_in; a++) {
        int seen = 0, g = 0;
        for (int b = 0; b < a && !seen; b++) seen = same_config(hash, recs, in, a, b);
        if (seen) continue;  // its configuration was taken at its first record
        for (int b = a; b < n_in; b++)
            if (same_config(hash, recs, in, a, b)) group[g++] = in[b];
        int median = slm_results_median_of(recs, group, g);
        out[k] = median >= 0 ? median : in[a];
        if (repeats) repeats[k] = g;
        k++;
    }
    free(group);
    free(hash);
    return k;
}

void slm_results_free(slm_results *res) {
    free(res->recs);
    memset(res, 0, sizeof *res);
}
