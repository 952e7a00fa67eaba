// predictor.c — one configuration into a predicted result record (predictor.h).
#include "predict/predictor.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "backend/backend.h"
#include "core/peak.h"
#include "measure/prices.h"

int slm_predictor_init(slm_predictor *p, const slm_hw *hw, const char *calibration_path, slm_err *err) {
    memset(p, 0, sizeof *p);
    p->hw = hw;
    p->eff = hw->eff;
    slm_calibration cal;
    int found = slm_calibration_lookup(calibration_path, hw->name, &cal, err);
    if (found < 0) return -1;
    if (found) {
        p->eff = cal.eff;
        snprintf(p->basis, sizeof p->basis, "calibrated (%d configurations, rms error %.1f%%, %s)", cal.n_records,
                 100 * cal.rms_error, cal.date);
    } else {
        snprintf(p->basis, sizeof p->basis, "uncalibrated: datasheet efficiencies (data/hardware.json)");
    }
    return 0;
}

slm_backend_kind slm_predictor_backend(const slm_hw *hw) { return hw->is_cpu ? SLM_BACKEND_CPU : SLM_BACKEND_CUDA; }

slm_dtype slm_predictor_dtype(const slm_hw *hw) { return slm_backend_default_dtype(slm_predictor_backend(hw)); }

void slm_predictor_device_name(const slm_hw *hw, int ranks_per_node, char *out, size_t len) {
    if (!hw->is_cpu) {
        snprintf(out, len, "%s", hw->name);
        return;
    }
    int threads = hw->cores / ranks_per_node;
    snprintf(out, len, "%s (%d threads)", hw->match[0], threads > 0 ? threads : 1);
}

int slm_predict_record(const slm_predictor *p, const slm_run_config *rc, slm_record *rec, slm_prediction *pred,
                       slm_err *err) {
    const slm_hw *hw = p->hw;
    slm_perf_device d;
    slm_hw local = *hw;
    if (p->devices_per_node) local.devices_per_node = p->devices_per_node;
    if (slm_perf_device_init(&d, &local, &p->eff, rc, slm_predictor_dtype(hw), p->nodes, err)) return -1;
    if (p->interconnect) {
        d.inter_bw_bytes_per_s = p->interconnect->bw_bytes_per_s;
        d.inter_latency_s = p->interconnect->latency_s;
    }
    d.hw = hw;
    slm_predict(rc, &d, pred);

    slm_record_init(rec, rc, "predicted");
    rec->run.backend = slm_predictor_backend(hw);
    rec->run.dtype = d.dtype;
    rec->nodes = d.nodes;
    slm_predictor_device_name(hw, d.per_node, rec->device, sizeof rec->device);
    snprintf(rec->basis, sizeof rec->basis, "%s", p->basis);
    // MFU against the peak a measured run of this device would use
    slm_peak peak;
    if (hw->is_cpu && !slm_peak_lookup(rec->device, "fp32", &peak)) {
        rec->peak_flops_per_device = peak.flops_per_s;
        slm_peak_describe(&peak, rec->peak_flops_source, sizeof rec->peak_flops_source);
    } else {
        rec->peak_flops_per_device = d.peak_flops_per_s;
        snprintf(rec->peak_flops_source, sizeof rec->peak_flops_source, "%s: %s %s dense peak, %s", hw->name,
                 slm_dtype_name(d.dtype), hw->is_cpu ? "measured" : "datasheet", "data/hardware.json");
    }
    rec->peak_mem_bytes = pred->plan.peak_bytes;
    memcpy(rec->mem_bytes, pred->plan.bytes, sizeof rec->mem_bytes);
    const double gib = 1024.0 * 1024 * 1024;
    if (pred->oom) {
        rec->status = "oom";
        snprintf(rec->message, sizeof rec->message,
                 "predicted out of memory: %.2f GiB per device needed, %.2f GiB available", pred->plan.peak_bytes / gib,
                 d.mem_capacity_bytes / gib);
    } else {
        rec->step_time_s = pred->step_s;
        rec->tokens_per_s = (double)rc->global_batch * rc->seq_len / pred->step_s;
        rec->comm_time_frac = pred->comm_exposed_s / pred->step_s;
        snprintf(rec->message, sizeof rec->message,
                 "predicted: compute %.4g s (attention %.0f%%), communication %.4g s of which %.4g s exposed, "
                 "optimizer %.4g s",
                 pred->compute_s, 100 * pred->attention_s * slm_grad_accum(rc) / pred->compute_s, pred->comm_s,
                 pred->comm_exposed_s, pred->optimizer_s);
    }
    if (p->prices_path) {
        slm_price price;
        double vcpus_per_rank = hw->is_cpu ? (double)hw->cores / d.per_node : 1;
        if (slm_price_lookup(p->prices_path, hw->price, vcpus_per_rank, &price, err)) return -1;
        rec->price_per_device_hour = price.usd_per_device_hour;
        snprintf(rec->price_source, sizeof rec->price_source, "%s", price.source);
    }
    return 0;
}
