#include "measure/result.h"

#include <math.h>
#include <stdio.h>

#include "core/peak.h"

void slm_record_from_train(slm_record *rec, const slm_run_config *rc, const slm_train_result *res) {
    slm_record_init(rec, rc, "measured");
    rec->status = slm_status_names[res->status];
    snprintf(rec->message, sizeof rec->message, "%s", res->status == SLM_STATUS_OK ? "trained" : res->message);
    snprintf(rec->device, sizeof rec->device, "%s", res->device);
    rec->step_time_s = res->step_time_s;
    rec->step_time_p10_s = res->step_time_p10_s;
    rec->step_time_p90_s = res->step_time_p90_s;
    rec->tokens_per_s = res->tokens_per_s;
    slm_peak peak;  // MFU's reference: the peak `slm peak` cached for this device, or none (null)
    if (slm_peak_lookup(res->device, rc->dtype, &peak) == 0) {
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
            if (res->rank_peak[r][1 + c]) fprintf(f, " %s %.1f", slm_mem_cat_names[c], res->rank_peak[r][1 + c] / 1048576.0);
        fputc('\n', f);
    }
}
