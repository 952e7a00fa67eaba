#include "measure/result.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/peak.h"
#include "measure/hardware.h"

// A GPU's dense datasheet peak for dtype from the hardware catalog, the peak
// the predictor's records use for the same device; -1 when the catalog is
// missing or does not know the device.
static int catalog_peak(const char *device, slm_dtype dtype, slm_record *rec) {
    const char *path = slm_hw_default_path();
    slm_hw_catalog cat;
    slm_err err;
    if (!path || slm_hw_load(path, &cat, &err)) return -1;
    const slm_hw *hw = slm_hw_match(&cat, device);
    const double peak = hw && !hw->is_cpu ? slm_hw_peak(hw, dtype) : 0;
    if (peak > 0) {
        rec->peak_flops_per_device = peak;
        snprintf(rec->peak_flops_source, sizeof rec->peak_flops_source, "%s: %s dense peak, datasheet, %s", hw->name,
                 slm_dtype_name(dtype), path);
    }
    slm_hw_free(&cat);
    return peak > 0 ? 0 : -1;
}

void slm_record_from_train(slm_record *rec, const slm_run_config *rc, const slm_train_result *res) {
    slm_record_init(rec, rc, "measured");
    rec->status = slm_status_names[res->status];
    snprintf(rec->message, sizeof rec->message, "%s", res->status == SLM_STATUS_OK ? "trained" : res->message);
    snprintf(rec->device, sizeof rec->device, "%s", res->device);
    rec->step_time_s = res->step_time_s;
    rec->step_time_p10_s = res->step_time_p10_s;
    rec->step_time_p90_s = res->step_time_p90_s;
    rec->tokens_per_s = res->tokens_per_s;
    // MFU's reference: on cuda the GPU's datasheet peak (data/hardware.json); on the CPU, or a GPU the
    // catalog lacks, the peak `slm peak` cached for this device; else none (null).
    slm_peak peak;
    const int from_catalog = rc->backend == SLM_BACKEND_CUDA && catalog_peak(res->device, rc->dtype, rec) == 0;
    if (!from_catalog && slm_peak_lookup(res->device, slm_dtype_name(rc->dtype), &peak) == 0) {
        rec->peak_flops_per_device = peak.flops_per_s;
        slm_peak_describe(&peak, rec->peak_flops_source, sizeof rec->peak_flops_source);
    }
    rec->peak_mem_bytes = res->mem.peak_total;
    for (int c = 0; c < SLM_MEM_NCAT; c++) rec->mem_bytes[c] = res->mem.at_peak[c];
    rec->comm_time_frac = res->comm_time_frac;
    rec->nodes = res->nodes;
    rec->train_tokens = res->train_tokens;
    rec->final_loss = res->final_loss;
    rec->val_loss = res->val_loss;
}

void slm_print_ranks(FILE *f, const slm_train_result *res) {
    if (res->world_size < 2) return;
    fprintf(f, "  communication %.1f%% of step time waiting (mean over %d ranks on %d host%s)\n",
            100.0 * res->comm_time_frac, res->world_size, res->nodes, res->nodes == 1 ? "" : "s");
    for (int r = 0; r < res->ranks_shown; r++) {
        fprintf(f, "  rank %-3d      peak %.1f MiB:", r, res->rank_peak[r][0] / 1048576.0);
        for (int c = 0; c < SLM_MEM_NCAT; c++)
            if (res->rank_peak[r][1 + c])
                fprintf(f, " %s %.1f", slm_mem_cat_names[c], res->rank_peak[r][1 + c] / 1048576.0);
        fputc('\n', f);
    }
}
