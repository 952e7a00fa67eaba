// fuzz_grid.c — the sweep's grid reader (cli/grid.c) on any text, against
// the bench's flag table as `slm sweep` reads it. The first points of a grid
// it accepts are turned into bench arguments as the sweep does: every value
// must parse as its flag (slm_flags_parse exits on one that does not, which
// the fuzzer reports), resolving a point may refuse it only with a message,
// and a point validation refuses gets the sweep's error record, which must
// read back from the results file (the next sweep reads it to skip the
// point).
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli/bench_flags.h"
#include "cli/grid.h"
#include "fuzz.h"
#include "measure/results.h"

enum { MAX_POINTS = 16 };

// Point i as the sweep's bench arguments (args[0] "bench"); returns their count.
static int point_args(const slm_grid *g, int64_t i, char **args, int *world_size) {
    int choice[SLM_GRID_MAX_DIMS], n_args = 1;
    slm_grid_point(g, i, choice);
    args[0] = "bench";
    *world_size = 1;
    for (int d = 0; d < g->n_dims; d++) {
        const slm_grid_dim *dim = &g->dims[d];
        char *v = dim->values[choice[d]];
        if (!dim->flag[0]) *world_size = atoi(v);
        if (!dim->flag[0] || !v) continue;
        args[n_args++] = (char *)dim->flag;
        if (dim->kind != FLAG_BOOL) args[n_args++] = v;
    }
    return n_args;
}

// The sweep's record of a point that cannot run: written, it must read back.
static void error_record(const slm_run_config *rc, const char *why) {
    char path[4096];
    fuzz_path(path, sizeof path, "results.jsonl");
    unlink(path);
    slm_record rec;
    slm_record_init(&rec, rc, "measured");
    rec.status = "error";
    snprintf(rec.message, sizeof rec.message, "%s", why);
    slm_err err;
    slm_results res = {0};
    if (slm_record_append(path, &rec, &err) || slm_results_read(path, 0, &res, &err) || res.n != 1)
        fuzz_fail("the error record of a point that cannot run does not read back: %s", err.msg);
    slm_results_free(&res);
}

static void resolve_point(const slm_grid *g, int64_t i) {
    char *args[2 * SLM_GRID_MAX_DIMS + 1];
    slm_run_config rc;
    slm_run_flag_text text;
    slm_bench_options opt;
    slm_flag flags[SLM_BENCH_FLAGS_MAX];
    slm_run_config_defaults(&rc);
    int n = slm_bench_flags(flags, &rc, &text, &opt), n_args = point_args(g, i, args, &rc.world_size);
    slm_flags_parse(flags, n, n_args, args, "slm bench", "");
    slm_err err;
    fuzz_err_clear(&err);
    if (slm_bench_resolve(&rc, &text, &opt, &err)) {
        fuzz_check_refusal(&err, "resolving a grid point");
    } else if (slm_run_flags_validate(&rc, &err)) {
        fuzz_check_refusal(&err, "validating a grid point");
        error_record(&rc, err.msg);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = fuzz_text(data, size);
    slm_run_config rc;
    slm_run_flag_text flag_text;
    slm_bench_options opt;
    slm_flag flags[SLM_BENCH_FLAGS_MAX];
    slm_run_config_defaults(&rc);
    int n = slm_bench_flags(flags, &rc, &flag_text, &opt);
    slm_grid g;
    slm_err err;
    fuzz_err_clear(&err);
    if (slm_grid_parse(text, "fuzz.grid.json", flags, n, &g, &err)) {
        fuzz_check_refusal(&err, "the grid reader");
    } else {
        if (g.n_points < 1 || g.n_points > 100000) fuzz_fail("a grid of %lld points", (long long)g.n_points);
        for (int64_t i = 0; i < g.n_points && i < MAX_POINTS; i++) resolve_point(&g, i);
        slm_grid_free(&g);
    }
    free(text);
    return 0;
}
