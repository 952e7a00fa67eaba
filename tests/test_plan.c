// test_plan.c — what each strategy costs a rank (slm_parallel_plan, printed by
// `slm info --strategy S --world-size N`) against values worked out by hand
// from the model's shape, for `100m` and `1b` (whose embedding and head units
// are larger than a block, as the study's models are): parameter, gradient,
// optimizer and whole-unit buffer bytes, and the bytes through each
// collective per optimizer step. (test_dist checks the plan against what real
// runs allocate.)
#include <stdio.h>

#include "dist/strategy.h"
#include "testutil.h"

static size_t round16(size_t n) { return (n + 15) / 16 * 16; }

static void check(const char *preset) {
    slm_model_config c;
    slm_preset(preset, &c, NULL);
    const size_t C = (size_t)c.d_model, V = (size_t)c.vocab, F = (size_t)c.ffn_dim, L = (size_t)c.n_layers;
    const size_t hd = C / (size_t)c.n_heads, q = (size_t)c.n_heads * hd, kv = (size_t)c.n_kv_heads * hd;
    // units by hand: every tensor here is a multiple of 16 floats, so no padding between tensors
    const size_t embed = V * C, block = 2 * C + 2 * C * q + 2 * C * kv + 3 * C * F, head = C + V * C;
    const size_t total = embed + L * block + head;
    for (int W = 2; W <= 4; W += 2) {
        const size_t be = round16((embed + W - 1) / W), bb = round16((block + W - 1) / W),
                     bh = round16((head + W - 1) / W), own = be + L * bb + bh;
        const size_t big = (bh > be ? bh : be) * W, blk = bb * W;
        slm_parallel_cost ddp, full, gop;
        slm_parallel_plan(&c, SLM_STRATEGY_DDP, 1, W, 2, &ddp);
        slm_parallel_plan(&c, SLM_STRATEGY_FSDP_FULL, 1, W, 2, &full);
        slm_parallel_plan(&c, SLM_STRATEGY_FSDP_GRAD_OP, 1, W, 2, &gop);
        const double ring = (double)(W - 1) / W;
        t_check(ddp.bytes[SLM_MEM_PARAMS] == 4 * total && ddp.bytes[SLM_MEM_OPTIMIZER] == 8 * total &&
                    ddp.bytes[SLM_MEM_COMM] == 0 && ddp.all_reduce_bytes == 4.0 * total &&
                    ddp.sent_bytes == 2 * ring * 4.0 * total && ddp.all_gather_bytes == 0,
                "%s, ddp at %d ranks: full replica (%zu floats), one all-reduce of it per step, sends %.0f bytes",
                preset, W, total, ddp.sent_bytes);
        // fsdp-full, overlap on, untied: two big buffers (the head's parameters and gradient at once) and
        // two block buffers (prefetch, or a reduce-scatter in flight)
        t_check(full.bytes[SLM_MEM_PARAMS] == 4 * own && full.bytes[SLM_MEM_GRADS] == 4 * own &&
                    full.bytes[SLM_MEM_OPTIMIZER] == 8 * own && full.bytes[SLM_MEM_COMM] == 4 * (2 * big + 2 * blk),
                "%s, fsdp-full at %d ranks: shards of %zu floats, buffers 2 x %zu + 2 x %zu floats", preset, W, own,
                big, blk);
        // per micro step: every unit gathered for the forward, the head and blocks again for the backward,
        // every unit reduce-scattered; 2 micro steps
        const double gathered = 2.0 * 4 * ((be + L * bb + bh) * W + (L * bb + bh) * W);
        const double reduced = 2.0 * 4 * own * W;
        t_check(full.all_gather_bytes == gathered && full.reduce_scatter_bytes == reduced &&
                    full.sent_bytes == ring * (gathered + reduced),
                "%s, fsdp-full at %d ranks, 2 micro steps: all-gathers %.0f bytes, reduce-scatters %.0f", preset, W,
                full.all_gather_bytes, full.reduce_scatter_bytes);
        // fsdp-grad-op: every unit gathered once per micro step and held to its backward
        const double gop_gathered = 2.0 * 4 * own * W;
        t_check(gop.all_gather_bytes == gop_gathered && gop.reduce_scatter_bytes == reduced &&
                    gop.bytes[SLM_MEM_COMM] == 4 * (3 * big + L * blk),
                "%s, fsdp-grad-op at %d ranks: all-gathers %.0f bytes per step, buffers the whole model and the "
                "head's gradient (%zu bytes)",
                preset, W, gop.all_gather_bytes, gop.bytes[SLM_MEM_COMM]);
    }
}

int main(void) {
    check("100m");
    check("1b");
    return t_finish("test_plan");
}
