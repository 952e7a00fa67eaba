// validate.c — calibrate on one set of records, predict another (validate.h).
#include "predict/validate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int slm_validate(const slm_hw *hw, const slm_record *const *fit, int n_fit, const slm_record *const *check, int n_check,
                 slm_validation_row *rows, slm_validation *out, slm_err *err) {
    memset(out, 0, sizeof *out);
    const slm_record **recs = slm_xcalloc((size_t)n_fit + 1, sizeof *recs);
    memcpy(recs, fit, (size_t)n_fit * sizeof *recs);
    out->eff = hw->eff;
    int rc = slm_calibrate_fit(hw, recs, n_fit, &out->eff, &out->fit_rms, &out->n_outliers, err);
    free(recs);
    if (rc) return -1;
    out->n_fit = n_fit - out->n_outliers;
    for (int i = 0; i < n_check; i++) {
        const slm_record *r = check[i];
        slm_perf_device d;
        if (slm_perf_device_init(&d, hw, &out->eff, &r->run, r->run.dtype, r->nodes, err)) return -1;
        slm_prediction p;
        slm_predict(&r->run, &d, &p);
        slm_validation_row *row = &rows[i];
        row->rec = r;
        row->pred_tokens_per_s = (double)r->run.global_batch * r->run.seq_len / p.step_s;
        row->tokens_err = row->pred_tokens_per_s / r->tokens_per_s - 1;
        row->pred_peak_mem_bytes = p.plan.peak_bytes;
        row->mem_err = (double)p.plan.peak_bytes / (double)r->peak_mem_bytes - 1;
        out->max_abs_tokens_err = fmax(out->max_abs_tokens_err, fabs(row->tokens_err));
        out->mean_abs_tokens_err += fabs(row->tokens_err) / n_check;
        out->max_abs_mem_err = fmax(out->max_abs_mem_err, fabs(row->mem_err));
    }
    return 0;
}
