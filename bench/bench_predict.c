// bench_predict.c — how far `slm predict` is from fresh measurements on this
// CPU, for configurations it was not calibrated on: calibrates the CPU entry
// on one results file (the records of data/grids/cpu-predict-calibration.json)
// and predicts every record of another (data/grids/cpu-predict-validation.json),
// printing tokens/s and peak memory, measured against predicted. A benchmark,
// not a test: it prints figures and exits 0. Measure both files with
//   slm sweep data/grids/cpu-predict-calibration.json --out CAL.jsonl
//   slm sweep data/grids/cpu-predict-validation.json --out VAL.jsonl
//   build/bench/bench_predict CAL.jsonl VAL.jsonl
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "measure/results.h"
#include "predict/validate.h"

static int load(const char *path, const slm_hw_catalog *cat, const slm_hw *hw, slm_results *res,
                const slm_record ***out) {
    slm_err err;
    if (slm_results_read(path, 0, res, &err)) {
        fprintf(stderr, "bench_predict: %s\n", err.msg);
        exit(1);
    }
    int *idx = calloc((size_t)res->n + 1, sizeof(int));
    int n = slm_calibration_select(cat, hw, res->recs, res->n, idx);
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
    int n_fit = load(argv[1], &cat, hw, &fit_res, &fit), n_check = load(argv[2], &cat, hw, &check_res, &check);
    slm_validation_row *rows = calloc((size_t)n_check + 1, sizeof *rows);
    slm_validation v;
    if (slm_validate(hw, fit, n_fit, check, n_check, rows, &v, &err)) {
        fprintf(stderr, "bench_predict: %s\n", err.msg);
        return 1;
    }
    printf("calibrated on %d records of %s (%d set aside as outliers), rms error %.1f%%:", v.n_fit, argv[1],
           v.n_outliers, 100 * v.fit_rms);
    for (int i = 0; i < SLM_EFF_N; i++) printf(" %s %.4g", slm_efficiency_names[i], *slm_efficiency_at(&v.eff, i));
    printf(
        "\n\n| model | T | strategy | ranks | micro | attention | tokens/s measured | predicted | error | peak MiB "
        "measured | predicted | error |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    int within = 0;
    for (int i = 0; i < n_check; i++) {
        const slm_record *r = rows[i].rec;
        within += fabs(rows[i].tokens_err) <= 0.15;
        printf("| %s | %d | %s | %d | %d | %s | %.0f | %.0f | %+.1f%% | %.1f | %.1f | %+.2f%% |\n", r->run.model.name,
               r->run.seq_len, slm_strategy_names[r->run.strategy], r->run.world_size, r->run.micro_batch,
               slm_attention_names[r->run.attention], r->tokens_per_s, rows[i].pred_tokens_per_s,
               100 * rows[i].tokens_err, r->peak_mem_bytes / 1048576.0, rows[i].pred_peak_mem_bytes / 1048576.0,
               100 * rows[i].mem_err);
    }
    printf(
        "\n%d of %d predictions within 15%% of measured tokens/s (mean |error| %.1f%%, max %.1f%%); peak memory "
        "max |error| %.2f%%\n",
        within, n_check, 100 * v.mean_abs_tokens_err, 100 * v.max_abs_tokens_err, 100 * v.max_abs_mem_err);
    free(rows);
    free(fit);
    free(check);
    slm_results_free(&fit_res);
    slm_results_free(&check_res);
    slm_hw_free(&cat);
    return 0;
}
