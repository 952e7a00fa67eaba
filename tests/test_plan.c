// test_plan.c — what each strategy costs a rank (slm_strategy_plan, printed by
// `slm info --strategy S --world-size N`) against values worked out by hand
// from the model's shape, for `100m` and `1b` (whose embedding and head units
// are larger than a block, as the study's models are): parameter, gradient,
// optimizer and whole-unit buffer bytes, and the bytes through each
// collective per optimizer step. (test_dist checks the plan against what real
// runs allocate.) In bf16 mixed precision (the CUDA backend's), the 100m
// figures of ddp and fsdp-full at 2 ranks, worked out by hand to the byte;
// and the activation plan of `tiny` in bf16 against its fp32 plan: every
// compute-dtype buffer halved, the fp32 ones (rstd, losses, log-sum-exp,
// RoPE tables) and the tokens unchanged, with the totals worked out by hand.
#include <stdio.h>
#include <stdlib.h>

#include "parallel/strategy.h"
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
        slm_strategy_cost ddp, full, gop;
        slm_strategy_plan(&c, SLM_STRATEGY_DDP, 1, W, 2, SLM_F32, &ddp);
        slm_strategy_plan(&c, SLM_STRATEGY_FSDP_FULL, 1, W, 2, SLM_F32, &full);
        slm_strategy_plan(&c, SLM_STRATEGY_FSDP_GRAD_OP, 1, W, 2, SLM_F32, &gop);
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

// 100m at 2 ranks in bf16 compute, fp32 master (C 640, V 32000, F 1792, 12 blocks, untied):
//   embedding 20 480 000, block 5 080 320, head 20 480 640 → 101 924 480 elements.
//   ddp: params 4 + 2 bytes each (master and compute copy) = 611 546 880; grads 4·total =
//        407 697 920; AdamW 8·total = 815 395 840; one fp32 all-reduce of 407 697 920 per
//        step, of which a rank sends 2·(1/2) = 407 697 920.
//   fsdp-full: blocks 10 240 000 + 12 × 2 540 160 + 10 240 320 = 50 962 240 owned elements:
//        params 6·own = 305 773 440, grads 4·own = 203 848 960, AdamW 8·own = 407 697 920;
//        slots in fp32: 2 big (20 480 640) + 2 block (5 080 320) elements = 204 487 680 bytes.
//        2 micro steps, each gathering every unit for the forward and the blocks and head
//        again for the backward, in bf16: 2·2·(101 924 480 + 81 444 480) = 733 475 840;
//        reduce-scatters in fp32: 2·4·101 924 480 = 815 395 840; a rank sends half of both,
//        774 435 840.
static void check_bf16(void) {
    slm_model_config c;
    slm_preset("100m", &c, NULL);
    slm_strategy_cost ddp, full;
    slm_strategy_plan(&c, SLM_STRATEGY_DDP, 1, 2, 2, SLM_BF16, &ddp);
    slm_strategy_plan(&c, SLM_STRATEGY_FSDP_FULL, 1, 2, 2, SLM_BF16, &full);
    t_check(ddp.bytes[SLM_MEM_PARAMS] == 611546880 && ddp.bytes[SLM_MEM_GRADS] == 407697920 &&
                ddp.bytes[SLM_MEM_OPTIMIZER] == 815395840 && ddp.bytes[SLM_MEM_COMM] == 0 &&
                ddp.all_reduce_bytes == 407697920.0 && ddp.all_gather_bytes == 0 && ddp.sent_bytes == 407697920.0,
            "100m, ddp at 2 ranks, bf16: params %zu (fp32 master + bf16 copy), grads %zu, optimizer %zu bytes, "
            "all-reduce %.0f (fp32) as worked by hand",
            ddp.bytes[SLM_MEM_PARAMS], ddp.bytes[SLM_MEM_GRADS], ddp.bytes[SLM_MEM_OPTIMIZER], ddp.all_reduce_bytes);
    t_check(full.bytes[SLM_MEM_PARAMS] == 305773440 && full.bytes[SLM_MEM_GRADS] == 203848960 &&
                full.bytes[SLM_MEM_OPTIMIZER] == 407697920 && full.bytes[SLM_MEM_COMM] == 204487680,
            "100m, fsdp-full at 2 ranks, bf16: params %zu, grads %zu, optimizer %zu, comm %zu bytes as worked by hand",
            full.bytes[SLM_MEM_PARAMS], full.bytes[SLM_MEM_GRADS], full.bytes[SLM_MEM_OPTIMIZER],
            full.bytes[SLM_MEM_COMM]);
    t_check(full.all_gather_bytes == 733475840.0 && full.reduce_scatter_bytes == 815395840.0 &&
                full.all_reduce_bytes == 0 && full.sent_bytes == 774435840.0,
            "100m, fsdp-full at 2 ranks, bf16, 2 micro steps: all-gathers %.0f bytes (bf16), reduce-scatters %.0f "
            "(fp32), sends %.0f",
            full.all_gather_bytes, full.reduce_scatter_bytes, full.sent_bytes);
}

// ---- the activation plan in bf16 ----------------------------------------------

enum { MAX_BUFS = 128 };
typedef struct {
    int n;
    size_t bytes[MAX_BUFS];
    slm_mem_cat cat[MAX_BUFS];
} buf_list;

static void record(void *ctx, void **slot, size_t bytes, slm_mem_cat cat) {
    buf_list *l = ctx;
    if (l->n < MAX_BUFS) l->bytes[l->n] = bytes, l->cat[l->n] = cat;
    l->n++;
}

// tiny (L 4, C 128, H 4, KVH 2, hd 32, F 512, V 512), one sequence of T = 64 tokens, training, N = 64:
//   compute-dtype elements: per block 4·N·C (xin, xn1, xmid, xn2) + 2·N·128 (q, att) + 2·N·64 (k, v)
//   + 3·N·F (g, u, h) = 155 648; after the blocks N·C·2 (xfinal, xnf) + N·V (logits) = 49 152; so
//   activations = 671 744 elements + fp32 rstd ×(2·4 + 1) and losses, 10·N·4 = 2 560 bytes.
//   backward workspace: 2·N·C + 2·N·128 + 2·N·64 + 3·N·F = 139 264 elements + RoPE tables
//   2·T·hd/2 floats (8 192 bytes) + tokens and targets (512 bytes).
//   vanilla attention: probabilities B·H·T² = 16 384 per layer ×4 + scores 16 384 = 81 920 elements.
//   flash: log-sum-exp B·H·T·4 = 1 024 bytes per layer, fp32 in both; in bf16 the fp32 scratch of
//   the accumulator and row sums, 4·(B·T·H·hd + B·H·T) = 33 792 bytes (none in fp32).
static void check_act_plan(void) {
    slm_model_config c;
    slm_preset("tiny", &c, NULL);
    const int B = 1, T = 64;
    buf_list *l = calloc(2, sizeof *l);  // [0] fp32, [1] bf16
    slm_act_plan(&c, B, T, SLM_ATTN_VANILLA, 1, 4, record, &l[0], NULL);
    slm_act_plan(&c, B, T, SLM_ATTN_VANILLA, 1, 2, record, &l[1], NULL);
    int same_shape = l[0].n == l[1].n && l[0].n <= MAX_BUFS, halved = 0, kept = 0, other = 0;
    size_t kept_bytes = 0;
    for (int i = 0; same_shape && i < l[0].n; i++) {
        if (l[0].cat[i] != l[1].cat[i]) other++;
        if (l[1].bytes[i] * 2 == l[0].bytes[i])
            halved++;
        else if (l[1].bytes[i] == l[0].bytes[i])
            kept++, kept_bytes += l[0].bytes[i];
        else
            other++;
    }
    // unchanged: rstd1, rstd2 per block, rstdf, losses, rope cos and sin, tokens, targets
    const size_t N = (size_t)B * T, fp32_kept = 4 * (2 * N * 4 + 2 * N) + 8192 + 512;
    t_check(same_shape && other == 0 && kept == 2 * 4 + 6 && halved == l[0].n - kept && kept_bytes == fp32_kept,
            "tiny, vanilla, bf16 plan: the fp32 plan's %d buffers in the same order and categories, %d halved, "
            "%d unchanged (rstd, losses, RoPE, tokens: %zu bytes)",
            l[0].n, halved, kept, kept_bytes);
    slm_act_sizes f, h, ff, fh;
    slm_act_sizes_compute(&c, B, T, SLM_ATTN_VANILLA, 1, 4, &f);
    slm_act_sizes_compute(&c, B, T, SLM_ATTN_VANILLA, 1, 2, &h);
    slm_act_sizes_compute(&c, B, T, SLM_ATTN_FLASH, 1, 4, &ff);
    slm_act_sizes_compute(&c, B, T, SLM_ATTN_FLASH, 1, 2, &fh);
    t_check(f.activations_bytes == 671744 * 4 + 2560 && h.activations_bytes == 671744 * 2 + 2560 &&
                f.workspace_bytes == 139264 * 4 + 8704 && h.workspace_bytes == 139264 * 2 + 8704 &&
                f.attention_bytes == 81920 * 4 && h.attention_bytes == 81920 * 2,
            "tiny, B 1, T 64, vanilla: activations %zu / %zu, workspace %zu / %zu, attention %zu / %zu bytes "
            "(fp32 / bf16) as worked by hand",
            f.activations_bytes, h.activations_bytes, f.workspace_bytes, h.workspace_bytes, f.attention_bytes,
            h.attention_bytes);
    t_check(ff.attention_bytes == 4096 && fh.attention_bytes == 4096 + 33792 &&
                fh.activations_bytes == h.activations_bytes && ff.activations_bytes == f.activations_bytes,
            "tiny, B 1, T 64, flash: attention %zu bytes in fp32 (log-sum-exp), %zu in bf16 (and the fp32 "
            "scratch)",
            ff.attention_bytes, fh.attention_bytes);
    free(l);
}

int main(void) {
    check("100m");
    check("1b");
    check_bf16();
    check_act_plan();
    return t_finish("test_plan");
}
