// perf.h — the performance model: the time of one optimizer step of a run
// configuration on a device type, from the ops of one micro step and the
// collectives of the strategy.
//
//   op time     = max(FLOPs / (peak · eff), bytes / (bandwidth · e_bw)) + launch_s  (a roofline per op)
//   GEMM eff    = e_gemm · m / (m + gemm_m0), m the GEMM's smallest dimension
//   attention   vanilla: batched GEMMs at their shapes (K = head dim) and a softmax that
//               writes and reads B·H·T² scores and probabilities (about twice that in the
//               backward); flash: the causal half of the FLOPs at e_flash, no T² traffic
//   collective  α–β, ring inside a node (all-reduce 2(n−1)/n·S, all-gather and
//               reduce-scatter (n−1)/n·S), hierarchical across nodes (reduce-scatter in
//               the node, the 1/n-th between nodes, all-gather in the node)
//   overlap     the link is one queue: DDP's per-unit buckets start as the last micro
//               step's backward finishes each unit; FSDP prefetches the next unit's
//               all-gather when a unit starts and reduce-scatters a unit when its
//               backward ends; what the compute did not hide is exposed
//   step        grad_accum · (forward + backward) + exposed communication + AdamW
// Memory and communication volumes come from plan.h (the model's and the
// strategy's own plans). The one decision to know: every efficiency is a
// parameter (slm_efficiency) that `slm calibrate` fits from measured records.
#pragma once
#include "core/run_config.h"
#include "measure/hardware.h"
#include "predict/plan.h"

// A device as one rank of rc sees it.
typedef struct {
    const slm_hw *hw;
    slm_efficiency eff;
    slm_dtype dtype;                               // SLM_BF16 or SLM_F32
    int nodes, per_node;                           // world size = nodes · per_node
    double peak_flops_per_s;                       // one rank, the dtype's dense peak
    double mem_bw_bytes_per_s;                     // one rank
    double mem_capacity_bytes;                     // one rank: the device's, or --mem-limit
    double intra_bw_bytes_per_s, intra_latency_s;  // per rank, one direction
    double inter_bw_bytes_per_s, inter_latency_s;
    double framework_bytes;  // CUDA context and GEMM workspace (0 on a CPU)
} slm_perf_device;

// The CUDA framework's memory beside the tracked buffers: context and cuBLASLt workspace.
#define SLM_CUDA_FRAMEWORK_BYTES (512.0 * 1048576.0 + 32.0 * 1048576.0)

// rc's world over `nodes` machines (0: as few as the device's devices_per_node
// allow); on a CPU the ranks of a machine share its cores and bandwidth. -1
// when the world does not split evenly over the nodes.
int slm_perf_device_init(slm_perf_device *d, const slm_hw *hw, const slm_efficiency *eff, const slm_run_config *rc,
                         slm_dtype dtype, int nodes, slm_err *err);

typedef struct {
    double embed_fwd_s, block_fwd_s, head_fwd_s;  // one micro step, one unit
    double embed_bwd_s, block_bwd_s, head_bwd_s;
    double attention_s;     // attention's part of one micro step (every layer, both passes)
    double compute_s;       // every micro step's forward and backward
    double optimizer_s;     // AdamW, the gradient norm and zeroing over the owned parameters
    double comm_s;          // every collective of the step, back to back
    double comm_exposed_s;  // the part compute did not hide
    double step_s;
    slm_rank_plan plan;  // memory by category and the collectives' bytes
    int oom;             // plan.peak_bytes past the device's capacity
} slm_prediction;

void slm_predict(const slm_run_config *rc, const slm_perf_device *d, slm_prediction *out);
// Time of one collective of a whole buffer of S bytes over the device's world
// (kind: 0 all-reduce, 1 all-gather, 2 reduce-scatter).
double slm_collective_s(const slm_perf_device *d, int kind, double S);
