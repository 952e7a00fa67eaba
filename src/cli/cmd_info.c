// cmd_info.c — `slm info`: what a configuration is before anything runs: its
// shape, parameters per unit, FLOPs per token and memory by category.
#include <stdio.h>

#include "cli/commands.h"
#include "cli/run_flags.h"
#include "core/err.h"
#include "model/llama.h"
#include "parallel/strategy.h"

static void mib_line(const char *what, size_t bytes) {
    printf("  %-28s %12.1f MiB  (%zu bytes)\n", what, bytes / 1048576.0, bytes);
}

// The flags into rc, checked; returns --world-size.
static int parse_flags(int argc, char **argv, slm_run_config *rc) {
    slm_run_flag_text text;
    slm_flag flags[SLM_RUN_FLAGS_MAX];
    int n = 0;
    int world = 1;
    slm_run_flags_add(flags, &n, rc, &text, RUN_FLAGS_MODEL);
    flags[n++] = (slm_flag){"--world-size", FLAG_INT, &world,
                            "ranks to plan --strategy for (per-rank memory of DDP and FSDP) [1]"};
    slm_flags_parse(flags, n, argc, argv, "slm info --model NAME|FILE.json|HF-DIR [flags]",
                    "Prints a model's shape, its parameters per unit, its FLOPs per token (6N + 12·L·H·Q·T,\n"
                    "docs/benchmarks.md) and the memory a training run needs for the given micro batch, sequence\n"
                    "length and attention, by category, exactly as the backend allocates it (in bf16, CUDA's: bf16\n"
                    "activations and a bf16 compute copy of the weights beside the fp32 master).\n"
                    "A model file is JSON with n_layers, d_model, n_heads, n_kv_heads, ffn_dim, vocab, seq_len,\n"
                    "rope_theta, norm_eps, tie_embeddings (missing fields keep the `small` preset's values).\n"
                    "A Hugging Face LlamaForCausalLM directory is read through its config.json (docs/hf.md).\n"
                    "With --strategy and --world-size, the per-rank memory of that strategy, as it allocates it.");
    slm_run_flags_finish(rc, &text);
    if (world < 1) slm_die(SLM_EXIT_USAGE, "--world-size must be positive (got %d)", world);
    if (rc->strategy == SLM_STRATEGY_SINGLE && world > 1)
        slm_die(SLM_EXIT_USAGE, "--world-size %d needs --strategy ddp, fsdp-full or fsdp-grad-op", world);
    return world;
}

// The training memory per device by category (the strategy's state, the activations), and its total.
static void print_memory(const slm_run_config *rc, int world, slm_dtype compute, const slm_act_sizes *acts,
                         const slm_strategy_cost *cost) {
    const size_t *state = cost->bytes;
    printf("training memory, %s, per device, micro batch %d x %d tokens, %s attention, %s",
           compute == SLM_F32 ? "fp32" : "bf16 compute with fp32 master weights", rc->micro_batch, rc->seq_len,
           slm_attention_names[rc->attention], slm_strategy_names[rc->strategy]);
    if (rc->strategy != SLM_STRATEGY_SINGLE)
        printf(" at world size %d (overlap %s)", world, rc->overlap ? "on" : "off");
    printf(":\n");
    int sharded = rc->strategy == SLM_STRATEGY_FSDP_FULL || rc->strategy == SLM_STRATEGY_FSDP_GRAD_OP;
    if (compute == SLM_F32)
        mib_line(sharded ? "parameters (this rank's shard)" : "parameters", state[SLM_MEM_PARAMS]);
    else
        mib_line(sharded ? "param shard, fp32 + bf16" : "parameters, fp32 + bf16", state[SLM_MEM_PARAMS]);
    mib_line(sharded ? "gradients (this rank's shard)" : "gradients", state[SLM_MEM_GRADS]);
    mib_line(sharded ? "optimizer (AdamW m, v shards)" : "optimizer (AdamW m, v)", state[SLM_MEM_OPTIMIZER]);
    if (state[SLM_MEM_COMM]) mib_line("comm (gathered units, grads)", state[SLM_MEM_COMM]);
    mib_line("activations", acts->activations_bytes);
    mib_line("attention", acts->attention_bytes);
    mib_line("workspace (backward, RoPE)", acts->workspace_bytes);
    size_t sum = acts->activations_bytes + acts->attention_bytes + acts->workspace_bytes;
    for (int k = 0; k < SLM_MEM_NCAT; k++) sum += state[k];
    mib_line("total", sum);
}

int slm_cmd_info(int argc, char **argv) {
    slm_run_config rc;
    slm_run_config_defaults(&rc);
    const int world = parse_flags(argc, argv, &rc);
    const slm_model_config *c = &rc.model;
    const int L = c->n_layers;
    const slm_dtype compute = rc.dtype;  // fp32 or bf16
    const size_t elem = slm_dtype_bytes(compute);

    printf("model %s: %d layers, d_model %d, %d heads (%d kv), head dim %d, ffn %d, vocab %d, max seq %d, %s head\n",
           c->name, L, c->d_model, c->n_heads, c->n_kv_heads, slm_head_dim(c), c->ffn_dim, c->vocab, c->seq_len,
           c->tie_embeddings ? "tied" : "untied");
    const slm_rope_scaling *rs = &c->rope_scaling;
    printf("RoPE theta %g", c->rope_theta);
    if (rs->factor)
        printf(", llama3 scaling (factor %g, low/high frequency factor %g/%g, original context %d)", rs->factor,
               rs->low_freq_factor, rs->high_freq_factor, rs->original_max_pos);
    printf(", RMSNorm eps %g\n", c->norm_eps);
    long long embed = (long long)c->vocab * c->d_model, total = (long long)slm_param_count(c);
    long long head = c->d_model + (c->tie_embeddings ? 0 : embed), block = (total - embed - head) / L;
    printf("parameters: %lld (%.3f B)\n", total, total / 1e9);
    printf("  unit 0          embedding          %14lld\n", embed);
    printf("  units 1-%-6d  block (each)       %14lld   x %d = %lld\n", L, block, L, block * L);
    printf("  unit %-10d final norm + head   %14lld%s\n", L + 1, head,
           c->tie_embeddings ? "   (head tied to the embedding)" : "");
    double fpt = slm_flops_per_token(c, rc.seq_len);
    printf("FLOPs per token at T=%d: %.4g = 6·N (N = %lld multiplied weights, head included) + 12·L·H·Q·T (%.4g)\n",
           rc.seq_len, fpt, (long long)slm_matmul_param_count(c), 12.0 * L * c->n_heads * slm_head_dim(c) * rc.seq_len);

    slm_act_sizes acts;
    slm_act_sizes_compute(c, rc.micro_batch, rc.seq_len, rc.attention, 1, elem, &acts);
    const int accum_of = slm_grad_accum_of(rc.global_batch, rc.micro_batch, world), accum = accum_of ? accum_of : 1;
    slm_strategy_cost cost;
    slm_strategy_plan(c, rc.strategy, rc.overlap, world, accum, compute, &cost);
    print_memory(&rc, world, compute, &acts, &cost);
    if (world > 1) {
        printf(
            "communication per optimizer step (global batch %lld = micro batch %d x %d ranks x %d micro steps), "
            "each rank, %s:\n",
            (long long)rc.micro_batch * world * accum, rc.micro_batch, world, accum,
            compute == SLM_F32 ? "fp32" : "all-gathers in bf16, reductions in fp32");
        mib_line("all-reduce (buffers)", (size_t)cost.all_reduce_bytes);
        mib_line("all-gather (whole units)", (size_t)cost.all_gather_bytes);
        mib_line("reduce-scatter (whole units)", (size_t)cost.reduce_scatter_bytes);
        mib_line("sent by each rank (ring)", (size_t)cost.sent_bytes);
    }
    // Which attentions the backend has, where it can be opened: info plans a
    // cuda run on a machine without a GPU too (the figures need no device).
    slm_err err;
    slm_backend *be = slm_backend_open(rc.backend, rc.dtype, &err);
    for (int k = 0; k < 2; k++) {
        slm_act_sizes other;
        slm_act_sizes_compute(c, rc.micro_batch, rc.seq_len, (slm_attention)k, 1, elem, &other);
        int have = k == SLM_ATTN_VANILLA || !be || be->ops->attention_flash_fwd;
        printf("  attention memory, %-7s      %12.1f MiB%s\n", slm_attention_names[k],
               other.attention_bytes / 1048576.0, have ? "" : "   (not implemented on this backend yet)");
    }
    slm_backend_destroy(be);
    return 0;
}
