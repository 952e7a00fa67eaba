// test_predict.c — the performance model's formulas against values worked
// out by hand for 100m and 1b: FLOPs per token; parameter, gradient,
// optimizer and activation bytes per strategy (fp32, and bf16 mixed
// precision: bf16 activations and compute copy beside the fp32 master); collective times on the α–β model inside a node
// and across nodes; and the model's qualitative claims: small models memory- and overhead-bound, large ones
// compute-bound; vanilla attention paying for its T² traffic and flash not; DDP's overlap hiding its buckets; FSDP full
// shard sending more than grad-op; out of memory past the device's memory.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "model/llama.h"
#include "predict/perf.h"
#include "testutil.h"

static slm_hw_catalog cat;

static slm_run_config config(const char *model, slm_strategy_kind s, int world, int B, int accum, slm_attention attn) {
    slm_run_config rc;
    slm_run_config_defaults(&rc);
    slm_preset(model, &rc.model, NULL);
    rc.seq_len = rc.model.seq_len;
    rc.strategy = s;
    rc.world_size = world;
    rc.micro_batch = B;
    rc.global_batch = B * world * accum;
    rc.attention = attn;
    return rc;
}

static void predict(const slm_run_config *rc, const char *device, slm_prediction *p, slm_perf_device *d) {
    const slm_hw *hw = slm_hw_find(&cat, device);
    slm_err err;
    if (slm_perf_device_init(d, hw, &hw->eff, rc, hw->is_cpu ? SLM_F32 : SLM_BF16, 0, &err)) {
        t_check(0, "device init: %s", err.msg);
        return;
    }
    slm_predict(rc, d, p);
}

static int close_to(double a, double b, double rel) { return fabs(a - b) <= rel * fabs(b); }

static void check_shape(const char *preset) {
    slm_model_config c;
    slm_preset(preset, &c, NULL);
    const double C = c.d_model, V = c.vocab, F = c.ffn_dim, L = c.n_layers, T = c.seq_len;
    const double hd = C / c.n_heads, q = c.n_heads * hd, kv = c.n_kv_heads * hd;
    // FLOPs per token: 6·N (block matrices and the head) + 12·L·H·Q·T
    const double n_mm = L * (2 * C * q + 2 * C * kv + 3 * C * F) + V * C;
    const double fpt = 6 * n_mm + 12 * L * c.n_heads * hd * T;
    t_check(slm_flops_per_token(&c, (int)T) == fpt, "%s: %.6g FLOPs per token = 6 x %.0f + 12 L H Q T", preset, fpt,
            n_mm);

    // memory of one rank, fp32 (the CPU), vanilla, micro batch 2: by hand from the graph's buffers
    const double B = 2, N = B * T, H = c.n_heads;
    const double per_layer = N * (4 * C + 2 + 2 * q + 2 * kv + 3 * F);
    const double acts = 4 * (L * per_layer + N * (2 * C + V + 2));
    const double attn = 4 * (L * B * H * T * T + B * H * T * T);  // probabilities per layer, one shared scratch
    const double work = 4 * (N * (2 * C + 2 * q + 2 * kv + 3 * F) + T * hd) + 4 * 2 * N;
    const double total = 4 * (V * C + L * (2 * C + 2 * C * q + 2 * C * kv + 3 * C * F) + C + V * C);  // floats x 4
    slm_run_config rc = config(preset, SLM_STRATEGY_DDP, 2, 2, 1, SLM_ATTN_VANILLA);
    slm_rank_plan plan;
    slm_rank_plan_compute(&rc, SLM_F32, 0, &plan);
    t_check(plan.bytes[SLM_MEM_PARAMS] == total && plan.bytes[SLM_MEM_GRADS] == total &&
                plan.bytes[SLM_MEM_OPTIMIZER] == 2 * total && plan.bytes[SLM_MEM_ACTIVATIONS] == acts &&
                plan.bytes[SLM_MEM_ATTENTION] == attn && plan.bytes[SLM_MEM_WORKSPACE] == work,
            "%s, ddp x2, B=2, fp32: params %.0f, grads, optimizer 2x, activations %.0f, attention %.0f (B.H.T^2 per "
            "layer + scratch), workspace %.0f bytes",
            preset, total, acts, attn, work);
    rc.attention = SLM_ATTN_FLASH;
    slm_rank_plan_compute(&rc, SLM_F32, 0, &plan);
    t_check(plan.bytes[SLM_MEM_ATTENTION] == 4 * L * B * H * T, "%s flash: attention keeps B.H.T floats per layer",
            preset);
    // bf16 (flash): activations at 2 bytes but rstd and losses (fp32); the log-sum-exp in fp32 and the CUDA
    // backward's fp32 scratch (dQ and rowsum(dO∘O)); the fp32 master and a bf16 copy of the parameters
    slm_rank_plan bf;
    slm_rank_plan_compute(&rc, SLM_BF16, 1000, &bf);
    const double bf_acts = 2 * (L * N * (4 * C + 2 * q + 2 * kv + 3 * F) + N * (2 * C + V)) + 4 * (2 * L * N + 2 * N);
    const double bf_attn = 4 * L * B * H * T + 4 * (N * q + B * H * T);
    const double bf_work = 2 * N * (2 * C + 2 * q + 2 * kv + 3 * F) + 4 * T * hd + 4 * 2 * N + 1000;
    t_check(bf.bytes[SLM_MEM_ACTIVATIONS] == bf_acts && bf.bytes[SLM_MEM_ATTENTION] == bf_attn &&
                bf.bytes[SLM_MEM_WORKSPACE] == bf_work && bf.bytes[SLM_MEM_PARAMS] == total / 4 * 6 &&
                bf.bytes[SLM_MEM_GRADS] == total && bf.bytes[SLM_MEM_OPTIMIZER] == 2 * total,
            "%s bf16, flash: activations %.0f, attention %.0f, workspace %.0f (framework 1000 included), params "
            "%.0f (fp32 master + bf16 copy) bytes",
            preset, bf_acts, bf_attn, bf_work, total / 4 * 6);
    for (int s = SLM_STRATEGY_FSDP_FULL; s <= SLM_STRATEGY_FSDP_GRAD_OP; s++) {
        rc = config(preset, (slm_strategy_kind)s, 4, 2, 1, SLM_ATTN_FLASH);
        slm_rank_plan_compute(&rc, SLM_F32, 0, &plan);
        t_check(plan.bytes[SLM_MEM_PARAMS] < total / 4 * 1.01 && plan.bytes[SLM_MEM_PARAMS] >= total / 4 &&
                    plan.bytes[SLM_MEM_OPTIMIZER] == 2 * plan.bytes[SLM_MEM_PARAMS] && plan.bytes[SLM_MEM_COMM] > 0,
                "%s %s x4: a quarter of the parameters (padded), optimizer twice that, gathered units in comm", preset,
                slm_strategy_names[s]);
    }
}

static void check_collectives(void) {
    const slm_hw *h100 = slm_hw_find(&cat, "H100-80GB");
    const double S = 1e9, bi = 450e9 * h100->eff.e_link, bo = 50e9 * h100->eff.e_link, li = 3e-6, lo = 6e-6;
    slm_run_config rc = config("100m", SLM_STRATEGY_DDP, 8, 1, 1, SLM_ATTN_FLASH);
    slm_perf_device d;
    slm_err err;
    slm_perf_device_init(&d, h100, &h100->eff, &rc, SLM_BF16, 0, &err);
    double ar = 2 * (7.0 / 8 * S / bi + 7 * li), ag = 7.0 / 8 * S / bi + 7 * li;
    t_check(d.nodes == 1 && close_to(slm_collective_s(&d, 0, S), ar, 1e-12) &&
                close_to(slm_collective_s(&d, 1, S), ag, 1e-12) && close_to(slm_collective_s(&d, 2, S), ag, 1e-12),
            "8 GPUs, 1 node, 1 GB: ring all-reduce 2(N-1)/N S/bw + 2(N-1) alpha = %.4g s, all-gather and "
            "reduce-scatter %.4g s",
            ar, ag);
    rc.world_size = 64;
    slm_perf_device_init(&d, h100, &h100->eff, &rc, SLM_BF16, 0, &err);
    // inside the node on S, between the 8 nodes on S/8
    double in = 7.0 / 8 * S / bi + 7 * li, across = 7.0 / 8 * (S / 8) / bo + 7 * lo;
    t_check(d.nodes == 8 && d.per_node == 8 && close_to(slm_collective_s(&d, 0, S), 2 * in + 2 * across, 1e-12) &&
                close_to(slm_collective_s(&d, 1, S), in + across, 1e-12),
            "64 GPUs on 8 nodes: hierarchical all-reduce %.4g s (NVLink %.4g + InfiniBand %.4g per phase)",
            2 * in + 2 * across, in, across);
    // the step's communication, DDP without overlap: one all-reduce of each unit's gradient bucket (L + 2
    // units, 4 bytes per float of the whole padded model) and two scalar all-reduces, all exposed
    rc = config("1b", SLM_STRATEGY_DDP, 8, 4, 1, SLM_ATTN_FLASH);
    rc.overlap = 0;
    slm_perf_device_init(&d, h100, &h100->eff, &rc, SLM_BF16, 0, &err);
    slm_prediction p;
    slm_predict(&rc, &d, &p);
    slm_param_layout lay;
    slm_param_layout_init(&lay, &rc.model);
    const double units = rc.model.n_layers + 2, grads = 4.0 * lay.total;
    const double want = 2 * 7.0 / 8 * grads / bi + units * 14 * li + 2 * (2 * 7.0 / 8 * 8 / bi + 14 * li);
    t_check(p.plan.cost.all_reduce_bytes == grads && close_to(p.comm_s, want, 1e-9) &&
                close_to(p.comm_exposed_s, want, 1e-9),
            "1b ddp x8, no overlap: %.0f bytes all-reduced in %.0f buckets: %.4g s, all exposed", grads, units, want);
    slm_param_layout_free(&lay);
    rc.world_size = 12;
    t_check(slm_perf_device_init(&d, h100, &h100->eff, &rc, SLM_BF16, 5, &err) == -1, "12 GPUs on 5 nodes refused: %s",
            err.msg);
}

static void check_model(void) {
    slm_prediction p, q;
    slm_perf_device d;
    // small models: memory- and overhead-bound; large ones compute-bound
    slm_run_config rc = config("100m", SLM_STRATEGY_SINGLE, 1, 1, 1, SLM_ATTN_FLASH);
    rc.seq_len = 128;
    predict(&rc, "H100-80GB", &p, &d);
    double flops = slm_flops_per_token(&rc.model, rc.seq_len) * rc.global_batch * rc.seq_len;
    double ideal = flops / (d.peak_flops_per_s * d.eff.e_gemm);
    t_check(p.compute_s > 2 * ideal, "100m, 128 tokens per step on an H100: %.3g s, over twice the FLOP-bound %.3g s",
            p.compute_s, ideal);
    rc = config("2b", SLM_STRATEGY_SINGLE, 1, 8, 1, SLM_ATTN_FLASH);
    predict(&rc, "H100-80GB", &p, &d);
    flops = slm_flops_per_token(&rc.model, rc.seq_len) * rc.global_batch * rc.seq_len;
    ideal = flops / (d.peak_flops_per_s * d.eff.e_gemm);
    t_check(p.compute_s < 1.5 * ideal, "2b, 8 x 1024 tokens on an H100: %.3g s, within 1.5x of FLOP-bound %.3g s",
            p.compute_s, ideal);
    // vanilla pays for B.H.T^2 scores; flash does not
    rc = config("100m", SLM_STRATEGY_SINGLE, 1, 8, 1, SLM_ATTN_VANILLA);
    predict(&rc, "A100-80GB", &p, &d);
    rc.attention = SLM_ATTN_FLASH;
    predict(&rc, "A100-80GB", &q, &d);
    t_check(p.attention_s > 2 * q.attention_s && p.step_s > q.step_s,
            "100m, T=1024: vanilla attention %.3g s per micro step, flash %.3g s", p.attention_s, q.attention_s);
    // gradient accumulation multiplies compute
    slm_run_config acc = config("100m", SLM_STRATEGY_SINGLE, 1, 8, 2, SLM_ATTN_FLASH);
    predict(&acc, "A100-80GB", &p, &d);
    t_check(close_to(p.compute_s, 2 * q.compute_s, 1e-12), "2 micro steps: twice the compute (%.4g s)", p.compute_s);
    // DDP: buckets hide under the backward when overlapped
    rc = config("1b", SLM_STRATEGY_DDP, 16, 8, 1, SLM_ATTN_FLASH);
    predict(&rc, "A100-40GB", &p, &d);
    rc.overlap = 0;
    predict(&rc, "A100-40GB", &q, &d);
    t_check(p.comm_exposed_s < 0.5 * q.comm_exposed_s && close_to(q.comm_exposed_s, q.comm_s, 1e-9),
            "1b ddp x16: %.3g s of %.3g s communication exposed with overlap, all of it without", p.comm_exposed_s,
            q.comm_s);
    // FSDP full shard gathers again for the backward
    rc = config("1b", SLM_STRATEGY_FSDP_FULL, 16, 8, 1, SLM_ATTN_FLASH);
    predict(&rc, "A100-40GB", &p, &d);
    rc.strategy = SLM_STRATEGY_FSDP_GRAD_OP;
    predict(&rc, "A100-40GB", &q, &d);
    t_check(p.comm_s > 1.3 * q.comm_s, "1b x16: fsdp-full %.3g s of collectives, grad-op %.3g s", p.comm_s, q.comm_s);
    // out of memory past the device
    rc = config("2b", SLM_STRATEGY_SINGLE, 1, 64, 1, SLM_ATTN_VANILLA);
    predict(&rc, "A100-40GB", &p, &d);
    rc = config("100m", SLM_STRATEGY_SINGLE, 1, 4, 1, SLM_ATTN_FLASH);
    predict(&rc, "A100-40GB", &q, &d);
    t_check(p.oom && !q.oom, "2b vanilla at micro batch 64 needs %.0f GiB of 40 GB: oom; 100m flash at 4 fits (%.1f)",
            p.plan.peak_bytes / 1073741824.0, q.plan.peak_bytes / 1073741824.0);
}

int main(void) {
    slm_err err;
    if (slm_hw_load(t_source_path("data/hardware.json"), &cat, &err)) {
        t_check(0, "%s", err.msg);
        return t_finish("test_predict");
    }
    check_shape("100m");
    check_shape("1b");
    check_collectives();
    check_model();
    slm_hw_free(&cat);
    return t_finish("test_predict");
}
