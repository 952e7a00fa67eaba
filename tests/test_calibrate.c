// test_calibrate.c — calibration recovers known efficiencies: records whose
// step times the model computed with chosen parameters (A100-80GB, bf16; a
// spread of models, batches, attentions, strategies and world sizes, one of
// them made 5x slower as a disturbed run would be) are fitted from the
// datasheet defaults; the fit must find the chosen parameters, set the
// disturbed record aside, and the calibration file must keep the fit for
// predict, which then says "calibrated (N configurations, …)". A calibration
// file named but missing, unparsable, or with an efficiency out of range is
// an error naming the file (and the field and value), never a silent
// "uncalibrated"; a fit out of range is not stored.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "predict/calibrate.h"
#include "predict/predictor.h"
#include "testutil.h"

// The calibration file's errors: each -1 with err naming the file, and what is wrong.
static void file_errors(const slm_hw *hw, const slm_calibration *fit) {
    slm_calibration back;
    slm_err err;
    const char *missing = t_tmp_path("missing-calibration.json");
    t_check(slm_calibration_lookup(missing, hw->name, &back, &err) == -1 && strstr(err.msg, "cannot open") &&
                strstr(err.msg, "missing-calibration.json"),
            "a calibration file named but missing: %s", err.msg);
    slm_predictor p;
    t_check(slm_predictor_init(&p, hw, missing, &err) == -1, "and predict's init fails on it, not uncalibrated");
    t_write_file("garbage.json", "calibrations?", 13);
    t_check(slm_calibration_lookup(t_tmp_path("garbage.json"), hw->name, &back, &err) == -1 &&
                strstr(err.msg, "garbage.json:1: not valid JSON"),
            "an unparsable one: %s", err.msg);
    const char bad[] = "{\"calibrations\":[{\"device\":\"A100-80GB\",\"efficiency\":{}}]}";
    t_write_file("bad.json", bad, sizeof bad - 1);
    t_check(slm_calibration_lookup(t_tmp_path("bad.json"), "A100-80GB", &back, &err) == -1 && strstr(err.msg, "e_gemm"),
            "a damaged calibration names the field: %s", err.msg);
    const char tiny[] =
        "{\"calibrations\":[{\"device\":\"A100-80GB\",\"efficiency\":{\"e_gemm\":0.7,\"gemm_m0\":100,\"e_bw\":1e-320,"
        "\"launch_s\":5e-6,\"e_flash\":0.4,\"e_link\":0.7,\"e_share\":1}}]}";
    t_write_file("tiny.json", tiny, sizeof tiny - 1);
    t_check(slm_calibration_lookup(t_tmp_path("tiny.json"), "A100-80GB", &back, &err) == -1 &&
                strstr(err.msg, "efficiency \"e_bw\" is 9.99989e-321 (expected a number in [1e-09, 4])"),
            "e_bw 1e-320 is out of range: %s", err.msg);
    const char yes[] =
        "{\"calibrations\":[{\"device\":\"A100-80GB\",\"efficiency\":{\"e_gemm\":0.7,\"gemm_m0\":100,\"e_bw\":0.8,"
        "\"launch_s\":5e-6,\"e_flash\":0.4,\"e_link\":0.7,\"e_share\":1},\"records\":true}]}";
    t_write_file("yes.json", yes, sizeof yes - 1);
    t_check(slm_calibration_lookup(t_tmp_path("yes.json"), "A100-80GB", &back, &err) == -1 &&
                strstr(err.msg, "\"records\" must be a number and \"rms_error\" a number or null"),
            "\"records\": true is refused: %s", err.msg);
    slm_calibration wild = *fit;
    wild.eff.e_gemm = 1.6;
    t_check(slm_calibration_store(t_tmp_path("wild.json"), &wild, &err) == -1 && strstr(err.msg, "\"e_gemm\" = 1.6"),
            "a fit with e_gemm 1.6 is not stored: %s", err.msg);
}

int main(void) {
    slm_hw_catalog cat;
    slm_err err;
    if (slm_hw_load(t_source_path("data/hardware.json"), &cat, &err)) {
        t_check(0, "%s", err.msg);
        return t_finish("test_calibrate");
    }
    const slm_hw *hw = slm_hw_find(&cat, "A100-80GB");
    const slm_efficiency truth = {.e_gemm = 0.62,
                                  .gemm_m0 = 300,
                                  .e_bw = 0.7,
                                  .launch_s = 9e-6,
                                  .e_flash = 0.45,
                                  .e_link = 0.6,
                                  .e_share = 1};  // e_share acts on CPUs only: stays at 1
    static const char *const models[] = {"100m", "500m", "1b"};
    static const int batches[] = {1, 4, 16}, worlds[] = {1, 8, 16};
    static const int seqs[] = {256, 1024};
    enum { MAX = 3 * 3 * 2 * 3 * 2 * 2 + 1 };
    static slm_record recs[MAX];
    int n = 0;
    for (int m = 0; m < 3; m++)
        for (int b = 0; b < 3; b++)
            for (int a = 0; a < 2; a++)
                for (int w = 0; w < 3; w++)
                    for (int s = 0; s < 2; s++)
                        for (int st = 0; st < 2; st++) {
                            slm_run_config rc;
                            slm_run_config_defaults(&rc);
                            slm_preset(models[m], &rc.model, NULL);
                            rc.seq_len = seqs[s];
                            rc.micro_batch = batches[b];
                            rc.world_size = worlds[w];
                            rc.global_batch = batches[b] * worlds[w];
                            rc.attention = (slm_attention)a;
                            rc.strategy = worlds[w] == 1 ? SLM_STRATEGY_SINGLE
                                          : st           ? SLM_STRATEGY_FSDP_FULL
                                                         : SLM_STRATEGY_DDP;
                            if (worlds[w] == 1 && st) continue;
                            rc.backend = SLM_BACKEND_CUDA;
                            rc.dtype = SLM_BF16;
                            slm_perf_device d;
                            slm_perf_device_init(&d, hw, &truth, &rc, SLM_BF16, 0, &err);
                            slm_prediction p;
                            slm_predict(&rc, &d, &p);
                            slm_record *r = &recs[n++];
                            slm_record_init(r, &rc, "measured");
                            r->nodes = d.nodes;
                            snprintf(r->device, sizeof r->device, "NVIDIA A100-SXM4-80GB");
                            r->step_time_s = p.step_s;
                        }
    recs[0].step_time_s *= 5;  // a run disturbed by another process
    recs[n] = recs[1];         // another device's: not selected
    snprintf(recs[n].device, sizeof recs[n].device, "NVIDIA H100 80GB HBM3");
    n++;
    int *idx = calloc((size_t)n, sizeof(int));
    int k = slm_calibration_select(&cat, hw, recs, n, idx, NULL);
    t_check(k == n - 1, "%d of %d records are the A100-80GB's (matched by device string)", k, n);
    const slm_record **sel = calloc((size_t)k, sizeof(slm_record *));
    for (int i = 0; i < k; i++) sel[i] = &recs[idx[i]];
    slm_efficiency eff = hw->eff;
    double rms;
    int outliers;
    int rc = slm_calibrate_fit(hw, sel, k, &eff, &rms, &outliers, &err);
    t_check(rc == 0 && outliers == 1, "fit converged, the disturbed record set aside (%d outliers)", outliers);
    t_check(rms < 0.01, "rms error of log step time %.2g%% on the %d records kept", 100 * rms, k - outliers);
    for (int i = 0; i < SLM_EFF_N; i++) {
        double want = *slm_efficiency_at((slm_efficiency *)&truth, i), got = *slm_efficiency_at(&eff, i);
        t_check(fabs(got / want - 1) < 0.05, "%s recovered: %.4g (chosen %.4g, started from %.4g)",
                slm_efficiency_names[i], got, want, *slm_efficiency_at((slm_efficiency *)&hw->eff, i));
    }

    slm_calibration cal = {.eff = eff, .n_records = k - outliers, .rms_error = rms};
    snprintf(cal.device, sizeof cal.device, "%s", hw->name);
    snprintf(cal.date, sizeof cal.date, "2026-11-22T00:00:00Z");
    const char *path = t_tmp_path("calibration.json");
    char saved[4096];
    snprintf(saved, sizeof saved, "%s", path);
    rc = slm_calibration_store(saved, &cal, &err);
    slm_calibration back;
    int found = rc == 0 ? slm_calibration_lookup(saved, hw->name, &back, &err) : -1;
    t_check(found == 1 && back.n_records == cal.n_records && back.eff.gemm_m0 == eff.gemm_m0,
            "the calibration file keeps the fit (%s)", found == 1 ? "read back" : err.msg);
    t_check(slm_calibration_lookup(saved, "H100-80GB", &back, &err) == 0, "a device not calibrated is not found");
    slm_predictor p;
    t_check(slm_predictor_init(&p, hw, saved, &err) == 0 && !strncmp(p.basis, "calibrated (", 12) &&
                p.eff.e_flash == eff.e_flash,
            "predict's basis: %s", p.basis);
    t_check(slm_predictor_init(&p, slm_hw_find(&cat, "H100-80GB"), saved, &err) == 0 &&
                !strncmp(p.basis, "uncalibrated", 12),
            "without a calibration: %s", p.basis);
    file_errors(hw, &cal);

    // repeated measurements (slm sweep --rounds): one record per configuration, the median by step time
    slm_record rep[6] = {recs[1], recs[2], recs[1], recs[1], recs[2], recs[3]};
    const double times[6] = {0.30, 0.20, 0.10, 0.90, 0.25, 0.40};
    for (int i = 0; i < 6; i++) rep[i].step_time_s = times[i];
    int rep_idx[6], rep_n[6];
    int kr = slm_calibration_select(&cat, hw, rep, 6, rep_idx, rep_n);
    t_check(kr == 3 && rep_idx[0] == 0 && rep_n[0] == 3 && rep_idx[1] == 1 && rep_n[1] == 2 && rep_idx[2] == 5 &&
                rep_n[2] == 1,
            "repeats: 3 configurations of 6 records; the median of 0.30, 0.10, 0.90 s is record 0, the faster of "
            "0.20 and 0.25 s record 1 (got %d: %d x%d, %d x%d, %d x%d)",
            kr, rep_idx[0], rep_n[0], rep_idx[1], rep_n[1], rep_idx[2], rep_n[2]);
    free(idx);
    free(sel);
    slm_hw_free(&cat);
    return t_finish("test_calibrate");
}
