// plan.c — memory and communication volumes of one rank, from the model's
// activation plan and the strategy's plan (plan.h).
#include "predict/plan.h"

#include <string.h>

#include "model/llama.h"

void slm_rank_plan_compute(const slm_run_config *rc, slm_dtype compute, double framework_bytes, slm_rank_plan *out) {
    memset(out, 0, sizeof *out);
    out->elem_bytes = slm_dtype_bytes(compute);
    slm_strategy_plan(&rc->model, rc->strategy, rc->overlap, rc->world_size, slm_grad_accum(rc), compute, &out->cost);
    for (int c = 0; c < SLM_MEM_NCAT; c++) out->bytes[c] = out->cost.bytes[c];
    slm_act_sizes act;
    slm_act_sizes_compute(&rc->model, rc->micro_batch, rc->seq_len, rc->attention, 1, out->elem_bytes, &act);
    out->bytes[SLM_MEM_ACTIVATIONS] += act.activations_bytes;
    out->bytes[SLM_MEM_ATTENTION] += act.attention_bytes;
    out->bytes[SLM_MEM_WORKSPACE] += act.workspace_bytes + (size_t)framework_bytes;
    for (int c = 0; c < SLM_MEM_NCAT; c++) out->peak_bytes += out->bytes[c];
}
