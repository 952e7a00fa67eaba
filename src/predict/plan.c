// plan.c — memory and communication volumes of one rank, from the model's
// activation plan and the strategy's plan (plan.h).
#include "predict/plan.h"

#include <string.h>

#include "model/llama.h"

void slm_rank_plan_compute(const slm_run_config *rc, const char *dtype, double framework_bytes, slm_rank_plan *out) {
    memset(out, 0, sizeof *out);
    out->elem_bytes = !strcmp(dtype, "bf16") ? 2 : 4;
    slm_parallel_plan(&rc->model, rc->strategy, rc->overlap, rc->world_size, slm_grad_accum(rc), &out->cost);
    for (int c = 0; c < SLM_MEM_NCAT; c++) out->bytes[c] = out->cost.bytes[c];
    slm_act_sizes act;
    slm_act_sizes_compute(&rc->model, rc->micro_batch, rc->seq_len, rc->attention, 1, &act);
    // provisional for bf16 until the layout takes the element size: the same buffers at half the bytes
    const size_t num = out->elem_bytes, den = 4;
    out->bytes[SLM_MEM_ACTIVATIONS] += act.activations_bytes / den * num;
    out->bytes[SLM_MEM_ATTENTION] += act.attention_bytes / den * num;
    out->bytes[SLM_MEM_WORKSPACE] += act.workspace_bytes + (size_t)framework_bytes;
    for (int c = 0; c < SLM_MEM_NCAT; c++) out->peak_bytes += out->bytes[c];
}
