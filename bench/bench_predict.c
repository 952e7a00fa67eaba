// bench_predict.c — how far `slm predict` is from fresh measurements on this
// CPU, for configurations it was not calibrated on: calibrates the CPU entry
// on one results file (the records of data/grids/cpu-predict-calibration.json)
// and predicts every record of another (data/grids/cpu-predict-validation.json),
// printing tokens/s and peak memory, measured against predicted. A benchmark,
// not a test: it prints figures and exits 0. A configuration measured more
// than once counts by its median record, and its row gives the range. The
// build machine's speed drifts by up to 2x over minutes (other tenants), so
// measure both files in alternating rounds (docs/benchmarks.md: alternate what
// is compared):
//   for r in 1 2 3; do
//     slm sweep data/grids/cpu-predict-calibration.json --rounds $r --out CAL.jsonl
//     slm sweep data/grids/cpu-predict-validation.json --rounds $r --out VAL.jsonl
//   done
//   build/bench/bench_predict CAL.jsonl VAL.jsonl
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "measure/results.h"
#include "predict/validate.h"

static int load(const char *path, const slm_hw_catalog *cat, const slm_hw *hw, slm_results *res,
                const slm_record ***out, int **repeats) {
    slm_err err;
    if (slm_results_read(path, 0, res, &err)) {
        fprintf(stderr, "bench_predict: %s\n", err.msg);
        exit(1);
    }
    int *idx = calloc((size_t)res->n + 1, sizeof(int));
    *repeats = calloc((size_t)res->n + 1, sizeof(int));
    int n = slm_calibration_select(cat, hw, res->recs, res->n, idx, *repeats);
    *out = calloc((size_t)n + 1, sizeof **out);
    for (int i = 0; i < n; i++) (*out)[i] = &res->recs[idx[i]];
    free(idx);
    return n;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: bench_predict CALIBRATION.jsonl VALIDATION.jsonl\n");
        return 2;
    }
    slm_hw_catalog cat;
    slm_err err;
    const char *hw_path = slm_hw_default_path();
    if (!hw_path || slm_hw_load(hw_path, &cat, &err)) {
        fprintf(stderr, "bench_predict: %s\n", hw_path ? err.msg : "no data/hardware.json");
        return 1;
    }
    const slm_hw *hw = slm_hw_find(&cat, "cpu");
    slm_results fit_res = {0}, check_res = {0};
    const slm_record **fit, **check;
    int *fit_repeats, *check_repeats;
    int n_fit = load(argv[1], &cat, hw, &fit_res, &fit, &fit_repeats),
        n_check = load(argv[2], &cat, hw, &check_res, &check, &check_repeats);
    slm_validation_row *rows = calloc((size_t)n_check + 1, sizeof *rows);
    slm_validation v;
    if (slm_validate(hw, fit, n_fit, check, n_check, rows, &v, &err)) {
        fprintf(stderr, "bench_predict: %s\n", err.msg);
        return 1;
    }
    int fit_records = 0;
    for (int i = 0; i < n_fit; i++) fit_records += fit_repeats[i];
    printf("calibrated on %d configurations of %s (%d records; %d set aside as outliers), rms error %.1f%%:", v.n_fit,
           argv[1], fit_records, v.n_outliers, 100 * v.fit_rms);
    for (int i = 0; i < SLM_EFF_N; i++) printf(" %s %.4g", slm_efficiency_names[i], *slm_efficiency_at(&v.eff, i));
    printf(
        "\n\n| model | T | strategy | ranks | micro | attention | runs | tokens/s measured (median; range) | "
        "predicted | error | peak MiB measured | predicted | error "
        "|\n|---|---|---|---|---|---|---|---|---|---|---|---|---"
        "|\n");
    int within = 0;
    for (int i = 0; i < n_check; i++) {
        const slm_record *r = rows[i].rec;
        within += fabs(rows[i].tokens_err) <= 0.15;
        double lo = r->tokens_per_s, hi = r->tokens_per_s;  // the range over the configuration's runs
        for (int j = 0; j < check_res.n; j++)
            if (!strcmp(check_res.recs[j].config_hash, r->config_hash) && !strcmp(check_res.recs[j].status, "ok") &&
                !strcmp(check_res.recs[j].device, r->device)) {
                lo = fmin(lo, check_res.recs[j].tokens_per_s);
                hi = fmax(hi, check_res.recs[j].tokens_per_s);
            }
        printf("| %s | %d | %s | %d | %d | %s | %d | %.0f (%.0f–%.0f) | %.0f | %+.1f%% | %.1f | %.1f | %+.2f%% |\n",
               r->run.model.name, r->run.seq_len, slm_strategy_names[r->run.strategy], r->run.world_size,
               r->run.micro_batch, slm_attention_names[r->run.attention], check_repeats[i], r->tokens_per_s, lo, hi,
               rows[i].pred_tokens_per_s, 100 * rows[i].tokens_err, r->peak_mem_bytes / 1048576.0,
               rows[i].pred_peak_mem_bytes / 1048576.0, 100 * rows[i].mem_err);
    }
    printf(
        "\n%d of %d predictions within 15%% of measured tokens/s (mean |error| %.1f%%, max %.1f%%); peak memory "
        "max |error| %.2f%%\n",
        within, n_check, 100 * v.mean_abs_tokens_err, 100 * v.max_abs_tokens_err, 100 * v.max_abs_mem_err);
    free(rows);
    free(fit);
    free(check);
    free(fit_repeats);
    free(check_repeats);
    slm_results_free(&fit_res);
    slm_results_free(&check_res);
    slm_hw_free(&cat);
    return 0;
}
