// llama.h — LLaMA (Hugging Face LlamaForCausalLM semantics) over the op table.
//
// Parameters live in one flat buffer organised in units:
//   unit 0          embedding        model.embed_tokens.weight [V,C]
//   unit 1 … L      block l-1        input_layernorm [C], q_proj [H·hd,C], k_proj [KVH·hd,C],
//                                    v_proj [KVH·hd,C], o_proj [C,H·hd], post_attention_layernorm [C],
//                                    gate_proj [F,C], up_proj [F,C], down_proj [C,F]
//   unit L+1        head             model.norm [C], lm_head [V,C] (absent when tied)
// Gradients use the same layout. Each tensor starts on a 16-element boundary
// (64 bytes in fp32), so every unit's size is a multiple of 16. A strategy
// (DDP, FSDP) sees units, never tensors: it gathers, reduces and shards whole
// units.
//
// Precision (backend.h): `params` is the fp32 master, `params_c` the copy in
// the backend's compute dtype that the ops read (the same buffer when that is
// fp32), laid out alike element for element; gradients are fp32. Activations
// are in the compute dtype, except rstd, losses, flash's log-sum-exp, the
// RoPE tables and the tokens.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"
#include "core/config.h"

#define SLM_MAX_TENSORS_PER_BLOCK 9

typedef struct {
    char name[64];   // Hugging Face name
    size_t offset;   // elements from the start of the flat buffer
    int rows, cols;  // cols = 1 for vectors
    int ndim;        // 2: a matrix [rows, cols]; 1: a vector [rows] (a norm's weight)
    int decay;       // weight decay applies (matrices), not to norms
} slm_tensor;

typedef struct {
    int n_units;          // L + 2
    size_t *unit_offset;  // elements, [n_units]
    size_t *unit_size;    // elements, [n_units]
    int n_tensors;
    slm_tensor *tensors;  // in flat-buffer order
    size_t total;         // elements in the flat buffer, padding included
    int64_t n_params;     // exact count
} slm_param_layout;

void slm_param_layout_init(slm_param_layout *lay, const slm_model_config *c);
void slm_param_layout_free(slm_param_layout *lay);
const slm_tensor *slm_param_find(const slm_param_layout *lay, const char *name);
// Whether `have` holds exactly want's tensors, each of its shape (then the two
// layouts are one); -1 with err "WHERE: tensor '…' …" naming the first that differs.
int slm_param_layout_match(const slm_param_layout *have, const slm_param_layout *want, const char *where, slm_err *err);

// Activation memory: every buffer the graph allocates for a micro batch of
// B sequences of T tokens, by category. The same function sizes the
// allocation and the estimate in `slm info`, so they cannot disagree.
typedef struct {
    size_t activations_bytes;  // saved for backward, and the backward's own buffers
    size_t attention_bytes;    // attention's saved state and scratch
    size_t workspace_bytes;    // logits, RoPE tables, tokens
} slm_act_sizes;
// `training` adds the backward's buffers; elem_bytes is the size of the
// compute dtype (4 for fp32, 2 for bf16).
void slm_act_sizes_compute(const slm_model_config *c, int B, int T, slm_attention attn, int training, size_t elem_bytes,
                           slm_act_sizes *out);

// Strategy hooks: how the graph finds a unit's parameters and where its
// gradients go. slm_model_init sets the default ones, a process of its own
// holding the flat buffers; a strategy (parallel/strategy.h) sets its own.
typedef struct {
    void *ctx;
    // The unit's parameters in the compute dtype, gathered, before its forward / backward.
    void *(*params_fwd)(void *ctx, int unit);
    void *(*params_bwd)(void *ctx, int unit);
    // Done with the unit's parameters (FSDP full shard frees them here).
    void (*release)(void *ctx, int unit);
    // Where the unit's gradients (fp32) accumulate, and the signal that they are final
    // for this micro step (DDP starts its all-reduce bucket here).
    float *(*grads)(void *ctx, int unit);
    void (*grads_ready)(void *ctx, int unit);
} slm_unit_hooks;

// void *: the compute dtype; float *: fp32.
typedef struct {
    void *xin;         // [N,C] block input (residual stream)
    float *rstd1;      // [N]
    void *xn1;         // [N,C]
    void *q;           // [N,H·hd] after RoPE
    void *k, *v;       // [N,KVH·hd] (k after RoPE)
    void *att;         // [N,H·hd] attention output
    void *attn_saved;  // vanilla: probabilities [B,H,T,T]; flash: log-sum-exp [B,H,T] fp32
    void *xmid;        // [N,C] residual after attention
    float *rstd2;      // [N]
    void *xn2;         // [N,C]
    void *g, *u, *h;   // [N,F] gate, up, silu(gate)·up
} slm_block_acts;

typedef struct slm_model {
    slm_model_config cfg;
    slm_param_layout layout;
    slm_backend *be;
    float *params, *grads;  // fp32 flat buffers (grads NULL for inference; both NULL when a strategy shards them)
    void *params_c;         // the compute copy of params (params itself when the compute dtype is fp32)
    int training;           // activations for a backward too
    slm_unit_hooks hooks;   // strategy; defaults to the flat buffers

    // Activations, for micro batches up to B×T (allocated by slm_model_alloc_acts).
    int B, T;
    slm_attention attn;
    int fwd_B, fwd_T;      // shape of the last forward, for the backward
    slm_block_acts *acts;  // [L]
    void *xfinal;          // [N,C] residual stream out of the last block
    float *rstdf;          // [N] final norm
    void *xnf;             // [N,C]
    void *logits;          // [N,V]; holds dlogits after a training forward
    float *losses;         // [N]
    void *attn_scratch;
    // backward: the residual stream's gradient, a normed input's, attention's, the MLP's
    void *dres, *dxn;            // [N,C]
    void *datt, *dq, *dk, *dv;   // [N,H·hd], [N,H·hd], [N,KVH·hd] ×2
    void *dh, *dg, *du;          // [N,F]
    float *rope_cos, *rope_sin;  // [T, hd/2]
    int *tokens, *targets;       // [N] on the device
    float *losses_host;          // [N]
} slm_model;

// Visits every activation buffer of a micro batch (slot, bytes, category) in
// allocation order, buffers of the compute dtype at elem_bytes per element;
// slots are NULL when m is NULL (sizing only).
void slm_act_plan(const slm_model_config *c, int B, int T, slm_attention attn, int training, size_t elem_bytes,
                  void (*visit)(void *ctx, void **slot, size_t bytes, slm_mem_cat cat), void *ctx, struct slm_model *m);

// The default hooks' answers: unit `unit` in the flat buffers (compute copy;
// fp32 gradients), and a hook that does nothing (release, grads_ready).
void *slm_model_flat_params(const slm_model *m, int unit);
float *slm_model_flat_grads(const slm_model *m, int unit);
void slm_hook_none(void *ctx, int unit);

// RoPE's inverse frequency of rotation pair i (0 ≤ i < head_dim/2), Llama 3.1's
// rescaling applied when the config has it; and the tables cos, sin [T, hd/2]
// of t · inv_freq (rope.c).
float slm_rope_inv_freq(const slm_model_config *c, int i);
void slm_rope_tables(const slm_model_config *c, int T, float *cos_out, float *sin_out);

// Allocates parameters, their compute copy when the backend's compute dtype
// is not fp32 (as params), and gradients when `with_grads`, through the tracker.
// Returns -1 with err set on OOM (be->mem.oom_request says how much).
int slm_model_init(slm_model *m, const slm_model_config *c, slm_backend *be, int with_grads, slm_err *err);
// The config and layout only, for training: a strategy that shards the
// parameters (FSDP) owns their storage and sets the hooks.
void slm_model_init_shell(slm_model *m, const slm_model_config *c, slm_backend *be);
void slm_model_free(slm_model *m);
// Hugging Face's initialisation: matrices and embedding N(0, 0.02), norms 1
// (the compute copy refreshed).
void slm_model_init_weights(slm_model *m, uint64_t seed);
// params_c = params in the compute dtype, after params were written (a load).
void slm_model_refresh_compute(slm_model *m);
// The same values into a host array of layout->total floats (padding zero).
void slm_model_weights_host(const slm_param_layout *lay, uint64_t seed, float *host);
// Activations for micro batches up to B sequences of T tokens.
int slm_model_alloc_acts(slm_model *m, int B, int T, slm_attention attn, slm_err *err);

// Forward over tokens [B,T] (host). With targets [B,T] (host), returns the mean
// loss; when dscale != 0 the logits are replaced by dscale·∂(Σ loss)/∂logits for
// slm_model_backward. Without targets, returns 0 and leaves logits [B·T, V]
// (compute dtype).
float slm_model_forward(slm_model *m, const int *tokens, const int *targets, int B, int T, float dscale);
// Accumulates parameter gradients (+=) of the last training forward.
void slm_model_backward(slm_model *m);
void slm_model_zero_grads(slm_model *m);
// Calls m->hooks exactly as slm_model_forward (backward = 0) or
// slm_model_backward (backward = 1) does, in the same order, computing
// nothing: a strategy replays a step with it to count the buffers it holds at
// once (tests/test_hooks.c checks that the two orders agree).
void slm_model_replay_hooks(const slm_model *m, int backward);
