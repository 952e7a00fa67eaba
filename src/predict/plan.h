// plan.h — what one rank holds and sends, for the performance model: the ONE
// place the predictor asks the model and the strategy for memory and
// communication volumes (slm_act_sizes_compute, slm_strategy_plan), so that a
// prediction uses exactly the bytes a run allocates and sends, never a second
// derivation of them.
// The decision to know: the compute dtype is the run's (bf16: 2 bytes), as the
// CUDA backend allocates it: bf16 activations (fp32 rstd, losses, flash's
// log-sum-exp and RoPE tables), a bf16 compute copy of the parameters beside
// the fp32 master (both under params), fp32 gradients and AdamW moments, FSDP
// all-gathers in bf16 and every reduction in fp32.
#pragma once
#include "core/run_config.h"
#include "parallel/strategy.h"

typedef struct {
    size_t bytes[SLM_MEM_NCAT];  // per rank, by category, at the micro batch
    size_t peak_bytes;           // their sum (every buffer is live at the step's peak)
    slm_strategy_cost cost;      // collective bytes per optimizer step (the strategy's plan)
    size_t elem_bytes;           // activations: 2 (bf16) or 4 (fp32)
} slm_rank_plan;

// For rc (model, micro batch, strategy, world size) at compute dtype SLM_F32
// or SLM_BF16; framework_bytes (a CUDA context and GEMM workspace) is added to
// workspace.
void slm_rank_plan_compute(const slm_run_config *rc, slm_dtype compute, double framework_bytes, slm_rank_plan *out);
