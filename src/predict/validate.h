// validate.h — how well the performance model predicts runs it was not
// calibrated on: fit a device on one set of measured records, predict every
// record of another set, and compare tokens/s and peak memory. Used by
// bench/bench_predict.c (fresh measurements) and tests/test_predict_cpu.c (a
// committed fixture of them).
#pragma once
#include "predict/calibrate.h"
#include "predict/predictor.h"

typedef struct {
    const slm_record *rec;                 // the measured record
    double pred_tokens_per_s, tokens_err;  // err = predicted / measured - 1
    size_t pred_peak_mem_bytes;
    double mem_err;
} slm_validation_row;

typedef struct {
    slm_efficiency eff;
    double fit_rms;
    int n_fit, n_outliers;
    double max_abs_tokens_err, mean_abs_tokens_err, max_abs_mem_err;
} slm_validation;

// Calibrates hw on fit[0..n_fit) (a copy of the pointers is reordered) and
// predicts check[0..n_check) into rows. -1 with err when the fit fails.
int slm_validate(const slm_hw *hw, const slm_record *const *fit, int n_fit, const slm_record *const *check, int n_check,
                 slm_validation_row *rows, slm_validation *out, slm_err *err);
