#include "measure/results.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int slm_results_read(const char *path, int missing_ok, slm_results *res, slm_err *err) {
    FILE *f = fopen(path, "r");
    if (!f) {
        if (missing_ok && errno == ENOENT) return 0;
        return slm_fail(err, "cannot open results file %s", path);
    }
    char *line = NULL;
    size_t cap = 0;
    int line_no = 0, ret = 0;
    while (getline(&line, &cap, f) >= 0) {
        line_no++;
        if (strspn(line, " \t\r\n") == strlen(line)) continue;
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

void slm_results_free(slm_results *res) {
    free(res->recs);
    memset(res, 0, sizeof *res);
}
