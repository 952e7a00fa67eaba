// strategy.h — where parameters and gradients live (and so the optimizer
// state, which follows what a rank owns), and when ranks communicate:
// single, ddp, fsdp-full, fsdp-grad-op. Written once over the comm interface
// (comm.h) and the model's unit hooks (llama.h).
//
//   single        one process: the model's flat buffers, nothing to send.
//   ddp           full replicas; each unit's gradient is one bucket, all-reduced
//                 (averaged) when the last micro step's backward finishes the unit,
//                 overlapping the backward of the next unit when `overlap` is on.
//   fsdp-full     (ZeRO-3) each unit's flat buffer split in `world` equal blocks
//                 (padded to a multiple of 16 floats); a rank owns one block of
//                 parameters, gradients and AdamW moments. A unit is all-gathered
//                 before its forward and freed after, gathered again before its
//                 backward; its gradient is reduce-scattered after its backward.
//   fsdp-grad-op  (ZeRO-2, SHARD_GRAD_OP) the same, but a unit gathered for the
//                 forward stays until its backward is done.
// With `overlap`, FSDP prefetches the next unit's all-gather while the current
// one computes and lets a unit's reduce-scatter run during the next unit's
// backward.
//
// Mixed precision (the backend's compute dtype, backend.h), as PyTorch's: the
// owned parameters p are the fp32 master, p_c their copy in the compute dtype
// (p itself when that is fp32), written by AdamW beside p. Replicated
// strategies hold the whole model's compute copy; FSDP holds that of its own
// blocks and all-gathers it, in the compute dtype, into a unit's slot.
// Gradients, their reductions and AdamW moments are fp32.
//
// Every strategy presents the same view of what this rank owns: per unit, the
// slice [own_begin, own_begin + own_len) of the unit's floats, stored at
// own_off in the owned buffers p and g (and in the optimizer's moments, laid
// out alike). Replicated strategies own every
// unit whole (own_off = the layout's offset, p and g = the model's buffers), so
// the optimizer (train/optim.h, which owns the AdamW moments), the clipping
// and the checkpoints are written once for all (slm_owned).
//
// Gathered parameters and whole-unit gradients live in slots allocated at
// init: big slots (the size of the embedding or head unit) and block slots,
// a big one serving a block when no block slot is free. A slot holds a unit's
// parameters or its gradient in turn, so the tracker counts the slots as
// communication buffers (`comm`), the shards as params and grads.
// Slots are sized in fp32 (a gradient's type): a unit's parameters in bf16
// use half of their slot.
// Their number is what the strategy holds at once, found by replaying one
// step's hook calls (slm_model_replay_hooks) before allocating; so a run that
// cannot fit fails there, as an out-of-memory result, never in the middle of
// a step. A reduce-scatter runs in place in the gradient's slot.
#pragma once
#include "core/run_config.h"
#include "model/llama.h"
#include "parallel/comm.h"

typedef struct {
    size_t size;       // floats in the unit
    size_t block;      // floats per rank's block (the unit whole when replicated)
    size_t own_begin;  // this rank's first float within the unit
    size_t own_len;    // floats of its block inside the unit (the rest is padding)
    size_t own_off;    // where the block sits in the owned buffers
    int cls;           // slot class (FSDP): 0 for the embedding and head units, 1 for blocks
    int p_slot;        // slot of its gathered parameters while held, else -1 (FSDP)
    int users;         // holders of the gathered parameters
    slm_comm_req gather;
    int g_slot;           // slot of its whole gradient during a backward, else -1 (FSDP)
    slm_comm_req reduce;  // DDP: the bucket's all-reduce in flight
} slm_unit_state;

typedef struct {
    void *buf;  // slot_floats[cls] fp32 elements; gathered parameters in the compute dtype
    int cls;    // 0 holds any unit, 1 only blocks
    int busy;
} slm_slot;

typedef struct {
    slm_comm *comm;
    slm_model *model;
    int sharded;        // fsdp-*
    int keep_gathered;  // fsdp-grad-op
    int overlap;        // non-blocking collectives overlapping compute
    int communicate;    // this backward completes the optimizer step's gradient
    int backward;       // which pass the hooks are in
    int eval;           // forward passes only (validation): gathered units are always freed
    float *p, *g;       // owned parameters (fp32 master) and gradients [n_own]
    void *p_c;          // owned parameters in the compute dtype [n_own] (p when it is fp32)
    slm_dtype compute;  // the backend's compute dtype
    size_t n_own;
    slm_unit_state *units;
    slm_slot *slots;
    int n_slots;
    size_t slot_floats[2];     // per class
    int sizing;                // replaying one step's hooks to count the slots: no buffers, no communication
    double gathered, reduced;  // while sizing: floats of the whole units all-gathered and reduce-scattered
    int reduce_unit;           // the unit whose reduce-scatter (in place, in its slot) is in flight, or -1
    slm_comm_req reduce_req;
} slm_strategy;

// Floats of one rank's block of a unit of `size` floats split over `world`
// ranks: ceil(size / world) rounded up to 16 (64-byte alignment).
size_t slm_shard_block(size_t size, int world);
// Rank r's slice of such a unit: its first float (*begin) and how many floats
// of its block lie inside the unit (the last ranks' may be short or empty).
size_t slm_shard_slice(size_t size, int r, int world, size_t *begin);

// The view of one process that holds every unit whole (units [n_units]).
void slm_units_whole(const slm_param_layout *lay, slm_unit_state *units);

// What one rank updates: its owned parameters p (fp32 master), their compute
// copy p_c (NULL when p is it) and gradients g, n floats each, padding
// included (zero); per unit, the slice owned and where it sits in them.
typedef struct {
    float *p, *g;
    void *p_c;
    size_t n;
    const slm_unit_state *units;  // [n_units]; NULL: every unit whole, at its layout offset
    slm_comm *norm_comm;          // ranks whose gradients' squares sum to the global norm; NULL: g is whole
} slm_owned;
// This rank's part under the strategy st (valid while st lives).
slm_owned slm_strategy_owned(const slm_strategy *st);
// A model of one process with its own flat buffers (slm_model_init with grads).
slm_owned slm_owned_model(const slm_model *m);

// Builds the model (without activations) and the storage of the strategy:
// replicated, the model's flat parameters and gradients; sharded, the owned
// blocks and the slots. -1 with err set when it does not fit.
int slm_strategy_init(slm_strategy *st, slm_model *m, const slm_model_config *c, slm_backend *be, slm_comm *comm,
                      slm_strategy_kind kind, int overlap, slm_err *err);
void slm_strategy_free(slm_strategy *st);
// What a strategy costs each rank, worked out without allocating or sending.
typedef struct {
    size_t bytes[SLM_MEM_NCAT];  // per rank: slm_strategy_init's (params, grads, comm) and, under optimizer,
                                 // the AdamW moments slm_optimizer_init allocates for what the rank owns
    // per optimizer step, the whole buffers that go through each collective
    // (padding included); with ring algorithms a rank sends 2(N−1)/N of
    // an all-reduce's and (N−1)/N of an all-gather's or reduce-scatter's
    double all_reduce_bytes, all_gather_bytes, reduce_scatter_bytes;
    double sent_bytes;  // what each rank sends per optimizer step, ring algorithms
} slm_strategy_cost;
// For a world of `world` ranks and `grad_accum` micro steps per optimizer
// step, in the compute dtype `compute`: the same plan as the run, slot replay
// included (the slots under comm; the compute copy under params; all-gathers
// in the compute dtype, reductions in fp32). For `slm info` and the
// performance model. The scalar all-reduces of the loss and the gradient norm
// (8 bytes each) are left out.
void slm_strategy_plan(const slm_model_config *c, slm_strategy_kind kind, int overlap, int world, int grad_accum,
                       slm_dtype compute, slm_strategy_cost *out);
// Hugging Face's initialisation, the same values as one process gets for the seed.
void slm_strategy_init_weights(slm_strategy *st, uint64_t seed);
// p_c = p in the compute dtype, after p was written (an init, a checkpoint load).
void slm_strategy_refresh_compute(slm_strategy *st);

// One optimizer step: zero_grads; per micro step forward, begin_backward(last),
// slm_model_backward, end_backward; then the optimizer over slm_strategy_owned.
// After the last end_backward, g holds this rank's part of the gradient
// averaged over ranks.
void slm_strategy_zero_grads(slm_strategy *st);
void slm_strategy_begin_backward(slm_strategy *st, int last_micro);
void slm_strategy_end_backward(slm_strategy *st);
// Forward passes only (validation) while on.
void slm_strategy_set_eval(slm_strategy *st, int on);
