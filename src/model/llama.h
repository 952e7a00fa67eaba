// llama.h — LLaMA (Hugging Face LlamaForCausalLM semantics) over the op table.
//
// Parameters live in one flat buffer organised in units:
//   unit 0          embedding        model.embed_tokens.weight [V,C]
//   unit 1 … L      block l-1        input_layernorm [C], q_proj [H·hd,C], k_proj [KVH·hd,C],
//                                    v_proj [KVH·hd,C], o_proj [C,H·hd], post_attention_layernorm [C],
//                                    gate_proj [F,C], up_proj [F,C], down_proj [C,F]
//   unit L+1        head             model.norm [C], lm_head [V,C] (absent when tied)
// Gradients use the same layout. Each tensor starts on a 16-float boundary
// (64 bytes), so every unit's size is a multiple of 16. A strategy (DDP, FSDP)
// sees units, never tensors: it gathers, reduces and shards whole units.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"
#include "core/config.h"

#define SLM_MAX_TENSORS_PER_BLOCK 9

typedef struct {
    char name[64];   // Hugging Face name
    size_t offset;   // floats from the start of the flat buffer
    int rows, cols;  // cols = 1 for vectors
    int decay;       // weight decay applies (matrices), not to norms
} slm_tensor;

typedef struct {
    int n_units;            // L + 2
    size_t *unit_offset;    // floats, [n_units]
    size_t *unit_size;      // floats, [n_units]
    int n_tensors;
    slm_tensor *tensors;    // in flat-buffer order
    size_t total;           // floats in the flat buffer, padding included
    int64_t n_params;       // exact count
} slm_param_layout;

void slm_param_layout_init(slm_param_layout *lay, const slm_model_config *c);
void slm_param_layout_free(slm_param_layout *lay);
const slm_tensor *slm_param_find(const slm_param_layout *lay, const char *name);

// Activation memory: every buffer the graph allocates for a micro batch of
// B sequences of T tokens, by category. The same function sizes the
// allocation and the estimate in `slm info`, so they cannot disagree.
typedef struct {
    size_t activations_bytes;  // saved for backward, and the backward's own buffers
    size_t attention_bytes;    // attention's saved state and scratch
    size_t workspace_bytes;    // logits, RoPE tables, tokens
} slm_act_sizes;
// `training` adds the backward's buffers.
void slm_act_sizes_compute(const slm_model_config *c, int B, int T, slm_attention attn, int training,
                           slm_act_sizes *out);

// Strategy hooks: how the graph finds a unit's parameters and where its
// gradients go. NULL hooks mean one process holding the flat buffers.
typedef struct {
    void *ctx;
    // The unit's parameters, gathered, before its forward / backward.
    float *(*params_fwd)(void *ctx, int unit);
    float *(*params_bwd)(void *ctx, int unit);
    // Done with the unit's parameters (FSDP full shard frees them here).
    void (*release)(void *ctx, int unit);
    // Where the unit's gradients accumulate, and the signal that they are final
    // for this micro step (DDP starts its all-reduce bucket here).
    float *(*grads)(void *ctx, int unit);
    void (*grads_ready)(void *ctx, int unit);
} slm_unit_hooks;

typedef struct {
    float *xin;       // [N,C] block input (residual stream)
    float *rstd1;     // [N]
    float *xn1;       // [N,C]
    float *q;         // [N,H·hd] after RoPE
    float *k, *v;     // [N,KVH·hd] (k after RoPE)
    float *att;       // [N,H·hd] attention output
    float *attn_saved;
    float *xmid;      // [N,C] residual after attention
    float *rstd2;     // [N]
    float *xn2;       // [N,C]
    float *g, *u, *h; // [N,F] gate, up, silu(gate)·up
} slm_block_acts;

typedef struct slm_model {
    slm_model_config cfg;
    slm_param_layout layout;
    slm_backend *be;
    float *params, *grads;  // flat buffers (grads NULL for inference; both NULL when a strategy shards them)
    int training;           // activations for a backward too
    slm_unit_hooks hooks;   // strategy; defaults to the flat buffers

    // Activations, for micro batches up to B×T (allocated by slm_model_alloc_acts).
    int B, T;
    slm_attention attn;
    int fwd_B, fwd_T;       // shape of the last forward, for the backward
    slm_block_acts *acts;   // [L]
    float *xfinal;          // [N,C] residual stream out of the last block
    float *rstdf, *xnf;     // final norm
    float *logits;          // [N,V]; holds dlogits after a training forward
    float *losses;          // [N]
    float *attn_scratch;
    // backward: the residual stream's gradient, a normed input's, attention's, the MLP's
    float *dres, *dxn;            // [N,C]
    float *datt, *dq, *dk, *dv;   // [N,H·hd], [N,H·hd], [N,KVH·hd] ×2
    float *dh, *dg, *du;          // [N,F]
    float *rope_cos, *rope_sin;                            // [T, hd/2]
    int *tokens, *targets;                                 // [N] on the device
    float *losses_host;                                    // [N]
} slm_model;

// Visits every activation buffer of a micro batch (slot, bytes, category) in
// allocation order; slots are NULL when m is NULL (sizing only).
void slm_act_plan(const slm_model_config *c, int B, int T, slm_attention attn, int training,
                  void (*visit)(void *ctx, void **slot, size_t bytes, slm_mem_cat cat), void *ctx,
                  struct slm_model *m);

// Allocates parameters (and gradients when `with_grads`) through the tracker.
// Returns -1 with err set on OOM (be->mem.oom_request says how much).
int slm_model_init(slm_model *m, const slm_model_config *c, slm_backend *be, int with_grads, slm_err *err);
// The config and layout only, for training: a strategy that shards the
// parameters (FSDP) owns their storage and sets the hooks.
void slm_model_init_shell(slm_model *m, const slm_model_config *c, slm_backend *be);
void slm_model_free(slm_model *m);
// Hugging Face's initialisation: matrices and embedding N(0, 0.02), norms 1.
void slm_model_init_weights(slm_model *m, uint64_t seed);
// The same values into a host array of layout->total floats (padding zero).
void slm_model_weights_host(const slm_param_layout *lay, uint64_t seed, float *host);
// Activations for micro batches up to B sequences of T tokens.
int slm_model_alloc_acts(slm_model *m, int B, int T, slm_attention attn, slm_err *err);

// Forward over tokens [B,T] (host). With targets [B,T] (host), returns the mean
// loss; when dscale != 0 the logits are replaced by dscale·∂(Σ loss)/∂logits for
// slm_model_backward. Without targets, returns 0 and leaves logits [B·T, V].
float slm_model_forward(slm_model *m, const int *tokens, const int *targets, int B, int T, float dscale);
// Accumulates parameter gradients (+=) of the last training forward.
void slm_model_backward(slm_model *m);
void slm_model_zero_grads(slm_model *m);
// Calls m->hooks exactly as slm_model_forward (backward = 0) or
// slm_model_backward (backward = 1) does, in the same order, computing
// nothing: a strategy replays a step with it to count the buffers it holds at
// once (tests/test_hooks.c checks that the two orders agree).
void slm_model_replay_hooks(const slm_model *m, int backward);
