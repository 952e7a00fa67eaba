// test_predict_cpu.c — predictions on this CPU against measured records that
// were not used to calibrate them (a committed fixture, measured by
// bench/bench_predict.c's procedure; no timing is taken here): calibrated on
// the records of data/grids/cpu-predict-calibration.json, every configuration
// of data/grids/cpu-predict-validation.json (another sequence length, another
// micro batch, a strategy the fit never saw) is predicted. Both grids were
// measured in four alternating rounds (slm sweep --rounds), each configuration
// counting by its median record. The targets: tokens/s within 15% and peak
// memory within 10% for every configuration (memory is in fact exact: it
// comes from the allocation plans).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "measure/results.h"
#include "predict/validate.h"
#include "testutil.h"

#define CALIBRATION "bench/results/2026-11-22-cpu-amd-epyc-2t-predict-calibration.jsonl"
#define VALIDATION "bench/results/2026-11-22-cpu-amd-epyc-2t-predict-validation.jsonl"

static int load(const char *rel, const slm_hw_catalog *cat, const slm_hw *hw, slm_results *res,
                const slm_record ***out) {
    slm_err err;
    if (slm_results_read(t_source_path(rel), 0, res, &err)) {
        t_check(0, "%s", err.msg);
        return 0;
    }
    int *idx = calloc((size_t)res->n + 1, sizeof(int));
    int n = slm_calibration_select(cat, hw, res->recs, res->n, idx, NULL);
    *out = calloc((size_t)n + 1, sizeof **out);
    for (int i = 0; i < n; i++) (*out)[i] = &res->recs[idx[i]];
    free(idx);
    return n;
}

int main(void) {
    slm_hw_catalog cat;
    slm_err err;
    if (slm_hw_load(t_source_path("data/hardware.json"), &cat, &err)) {
        t_check(0, "%s", err.msg);
        return t_finish("test_predict_cpu");
    }
    const slm_hw *hw = slm_hw_find(&cat, "cpu");
    slm_results fit_res = {0}, check_res = {0};
    const slm_record **fit = NULL, **check = NULL;
    int n_fit = load(CALIBRATION, &cat, hw, &fit_res, &fit), n_check = load(VALIDATION, &cat, hw, &check_res, &check);
    t_check(n_fit == 24 && n_check == 8, "fixture: %d calibration configurations, %d validation configurations", n_fit,
            n_check);
    slm_validation_row *rows = calloc((size_t)n_check + 1, sizeof *rows);
    slm_validation v;
    if (n_fit >= 2 && !slm_validate(hw, fit, n_fit, check, n_check, rows, &v, &err)) {
        t_check(1, "calibrated on %d configurations (%d set aside), rms error %.1f%%", v.n_fit, v.n_outliers,
                100 * v.fit_rms);
        int within = 0;
        for (int i = 0; i < n_check; i++) {
            const slm_record *r = rows[i].rec;
            within += fabs(rows[i].tokens_err) <= 0.15;
            t_check(fabs(rows[i].tokens_err) <= 0.15 && fabs(rows[i].mem_err) <= 0.10,
                    "%s T=%d %s x%d micro %d %s: tokens/s %.0f predicted, %.0f measured (%+.1f%%); peak memory %+.2f%%",
                    r->run.model.name, r->run.seq_len, slm_strategy_names[r->run.strategy], r->run.world_size,
                    r->run.micro_batch, slm_attention_names[r->run.attention], rows[i].pred_tokens_per_s,
                    r->tokens_per_s, 100 * rows[i].tokens_err, 100 * rows[i].mem_err);
        }
        t_check(within == n_check && n_check == 8,
                "%d of %d configurations predicted within 15%% of measured tokens/s (mean |error| %.1f%%)", within,
                n_check, 100 * v.mean_abs_tokens_err);
    } else {
        t_check(0, "calibration: %s", err.msg);
    }
    free(rows);
    free(fit);
    free(check);
    slm_results_free(&fit_res);
    slm_results_free(&check_res);
    slm_hw_free(&cat);
    return t_finish("test_predict_cpu");
}
