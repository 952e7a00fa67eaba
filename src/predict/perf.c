// perf.c — the performance model (perf.h): ops of one micro step timed on a
// roofline, collectives on an α–β model, overlap simulated on one link queue.
#include "predict/perf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/peak.h"
#include "model/llama.h"

int slm_perf_device_init(slm_perf_device *d, const slm_hw *hw, const slm_efficiency *eff, const slm_run_config *rc,
                         slm_dtype dtype, int nodes, slm_err *err) {
    memset(d, 0, sizeof *d);
    const int world = rc->world_size;
    if (nodes <= 0) nodes = (world + hw->devices_per_node - 1) / hw->devices_per_node;
    if (world % nodes)
        return slm_fail(err, "world size %d does not split evenly over %d nodes (expected a multiple)", world, nodes);
    d->hw = hw;
    d->eff = *eff;
    d->dtype = dtype;
    d->nodes = nodes;
    d->per_node = world / nodes;
    double peak = slm_hw_peak(hw, dtype);
    if (!(peak > 0))
        return slm_fail(err, "device '%s' has no %s peak in the hardware file", hw->name, slm_dtype_name(dtype));
    d->peak_flops_per_s = peak;
    d->mem_bw_bytes_per_s = hw->mem_bw_bytes_per_s;
    d->mem_capacity_bytes = hw->mem_bytes;
    if (hw->is_cpu) {  // the machine's ranks share its cores, bandwidth and memory, and get in each other's way
        double share = d->per_node > 1 ? eff->e_share / d->per_node : 1;
        d->peak_flops_per_s *= share;
        d->mem_bw_bytes_per_s *= share;
        d->mem_capacity_bytes /= d->per_node;
        if (hw->cores / d->per_node <= 1) d->eff.launch_s = 0;  // one thread per rank: no OpenMP fork and join
    } else {
        d->framework_bytes = SLM_CUDA_FRAMEWORK_BYTES;
    }
    if (rc->mem_limit && rc->mem_limit < d->mem_capacity_bytes) d->mem_capacity_bytes = (double)rc->mem_limit;
    d->intra_bw_bytes_per_s = hw->intra_bw_bytes_per_s;
    d->intra_latency_s = hw->intra_latency_s;
    d->inter_bw_bytes_per_s = hw->inter_bw_bytes_per_s;
    d->inter_latency_s = hw->inter_latency_s;
    return 0;
}

// ---- compute: a roofline per op ------------------------------------------------

typedef struct {
    const slm_perf_device *d;
    double e;       // bytes per activation element
    double t_s;     // summed op time
    double attn_s;  // of which attention
} clock_acc;

static void add(clock_acc *a, double t, int attn) {
    a->t_s += t;
    if (attn) a->attn_s += t;
}

// count GEMMs of out [M,N] = in [M,K] · w [K,N]
static void gemm(clock_acc *a, double M, double N, double K, double count, int attn) {
    const slm_efficiency *e = &a->d->eff;
    double m = fmin(M, fmin(N, K));
    double eff = e->e_gemm * m / (m + e->gemm_m0);
    double flops = 2 * M * N * K * count, bytes = (M * K + K * N + M * N) * count * a->e;
    add(a, fmax(flops / (a->d->peak_flops_per_s * eff), bytes / (a->d->mem_bw_bytes_per_s * e->e_bw)) + e->launch_s,
        attn);
}

// the two GEMMs of a GEMM's backward: din [M,K] = dout · wᵀ, dw [K,N] = inᵀ · dout
static void gemm_bwd(clock_acc *a, double M, double N, double K, double count, int attn) {
    gemm(a, M, K, N, count, attn);
    gemm(a, K, N, M, count, attn);
}

// a memory-bound kernel moving `bytes`
static void stream(clock_acc *a, double bytes, int attn) {
    add(a, bytes / (a->d->mem_bw_bytes_per_s * a->d->eff.e_bw) + a->d->eff.launch_s, attn);
}

// FlashAttention: the causal half of 4·B·H·T²·hd FLOPs per pass (`passes`: 1 forward, 2.5 backward)
static void flash(clock_acc *a, double B, double H, double T, double hd, double passes, double io_bytes) {
    const slm_perf_device *d = a->d;
    double flops = passes * 2 * B * H * T * T * hd;
    add(a,
        fmax(flops / (d->peak_flops_per_s * d->eff.e_flash), io_bytes / (d->mem_bw_bytes_per_s * d->eff.e_bw)) +
            d->eff.launch_s,
        1);
}

static void attention(clock_acc *a, const slm_run_config *rc, int backward) {
    const slm_model_config *c = &rc->model;
    const double B = rc->micro_batch, T = rc->seq_len, H = c->n_heads, hd = slm_head_dim(c), BH = B * H;
    const double N = B * T, qkvo = N * (2.0 * H + 2.0 * c->n_kv_heads) * hd * a->e;
    if (rc->attention == SLM_ATTN_FLASH) {
        flash(a, B, H, T, hd, backward ? 2.5 : 1, backward ? 2 * qkvo : qkvo);
        return;
    }
    if (!backward) {
        gemm(a, T, T, hd, BH, 1);             // scores = q·kᵀ
        stream(a, 2 * BH * T * T * a->e, 1);  // softmax: read the scores, write the probabilities
        gemm(a, T, hd, T, BH, 1);             // out = p·v
    } else {
        gemm(a, T, T, hd, BH, 1);             // dp = dout·vᵀ
        gemm(a, T, hd, T, BH, 1);             // dv = pᵀ·dout
        stream(a, 3 * BH * T * T * a->e, 1);  // softmax backward: read p and dp, write ds
        gemm(a, T, hd, T, BH, 1);             // dq = ds·k
        gemm(a, T, hd, T, BH, 1);             // dk = dsᵀ·q
    }
}

// One block, forward or backward, over N = B·T tokens.
static double block_s(const slm_run_config *rc, clock_acc *a, int backward) {
    const slm_model_config *c = &rc->model;
    const double N = (double)rc->micro_batch * rc->seq_len, C = c->d_model, hd = slm_head_dim(c), F = c->ffn_dim;
    const double Hq = c->n_heads * hd, Kv = c->n_kv_heads * hd, e = a->e;
    void (*mm)(clock_acc *, double, double, double, double, int) = backward ? gemm_bwd : gemm;
    const double ew = backward ? 1.5 : 1;  // an elementwise backward reads the gradient beside the saved input
    double t0 = a->t_s;
    stream(a, ew * 2 * N * C * e, 0);          // input rmsnorm
    mm(a, N, Hq, C, 1, 0);                     // q
    mm(a, N, Kv, C, 1, 0);                     // k
    mm(a, N, Kv, C, 1, 0);                     // v
    stream(a, ew * 2 * N * (Hq + Kv) * e, 0);  // rope on q and k
    attention(a, rc, backward);
    mm(a, N, C, Hq, 1, 0);                         // o, added to the residual
    stream(a, ew * 2 * N * C * e, 0);              // post-attention rmsnorm
    mm(a, N, F, C, 1, 0);                          // gate
    mm(a, N, F, C, 1, 0);                          // up
    stream(a, (backward ? 5 : 3) * N * F * e, 0);  // swiglu: g, u → h; backward dh, g, u → dg, du
    mm(a, N, C, F, 1, 0);                          // down, added to the residual
    return a->t_s - t0;
}

static double head_s(const slm_run_config *rc, clock_acc *a, int backward) {
    const slm_model_config *c = &rc->model;
    const double N = (double)rc->micro_batch * rc->seq_len, C = c->d_model, V = c->vocab;
    double t0 = a->t_s;
    stream(a, (backward ? 3 : 2) * N * C * a->e, 0);  // final rmsnorm
    if (backward)
        gemm_bwd(a, N, V, C, 1, 0);
    else {
        gemm(a, N, V, C, 1, 0);          // logits
        stream(a, 2 * N * V * a->e, 0);  // softmax cross-entropy and its gradient, in place
    }
    return a->t_s - t0;
}

static double embed_s(const slm_run_config *rc, clock_acc *a, int backward) {
    const double N = (double)rc->micro_batch * rc->seq_len, C = rc->model.d_model;
    double t0 = a->t_s;
    stream(a, 2 * N * C * (backward ? 4 : a->e), 0);  // gather rows; backward adds into fp32 gradients
    return a->t_s - t0;
}

// ---- communication: α–β -------------------------------------------------------

// One ring phase (reduce-scatter or all-gather) of S bytes over n ranks.
static double ring(double S, int n, double bw, double lat) {
    return n > 1 ? (n - 1.0) / n * S / bw + (n - 1) * lat : 0;
}

double slm_collective_s(const slm_perf_device *d, int kind, double S) {
    const int g = d->per_node, k = d->nodes;
    const double bi = d->intra_bw_bytes_per_s * d->eff.e_link, bo = d->inter_bw_bytes_per_s * d->eff.e_link;
    const double li = d->intra_latency_s, lo = d->inter_latency_s;
    // in the node on S, between nodes on the node's 1/g share
    double in_node = ring(S, g, bi, li), across = ring(S / g, k, bo, lo);
    if (kind == 0) return 2 * in_node + 2 * across;
    return in_node + across;
}

// ---- a step --------------------------------------------------------------------

typedef struct {
    double link_free_s;  // when the link finishes what was issued
    double busy_s;       // total time of what was issued
} link_queue;

static double issue(link_queue *q, double at_s, double dur_s) {
    q->link_free_s = fmax(q->link_free_s, at_s) + dur_s;
    q->busy_s += dur_s;
    return q->link_free_s;
}

typedef struct {
    int n;                  // units: 0 embedding, 1..L blocks, L+1 head
    double *frac;           // [n] the unit's share of the parameters
    double *fwd_s, *bwd_s;  // [n]
    double *ready_s;        // [n] when a unit's gathered parameters are there
} units_t;

// DDP: each unit's bucket all-reduced as the last micro step's backward finishes it.
static double ddp_exposed(const slm_perf_device *d, const units_t *u, double ar_bytes, int overlap, link_queue *q) {
    double t = 0, busy = 0;
    for (int i = u->n - 1; i >= 0; i--) {
        t += u->bwd_s[i];
        busy += u->bwd_s[i];
        double dur = slm_collective_s(d, 0, ar_bytes * u->frac[i]);
        if (overlap)
            issue(q, t, dur);
        else
            t = issue(q, t, dur);
    }
    return fmax(q->link_free_s, t) - busy;
}

// FSDP, one micro step: forward with all-gathers, backward with all-gathers
// (full shard: every unit but the embedding) and reduce-scatters.
static double fsdp_exposed(const slm_perf_device *d, const units_t *u, double ag_fwd, double ag_bwd, double rs,
                           int full, int overlap, link_queue *q) {
    double t = 0, busy = 0, *ready = u->ready_s;
    // forward: unit i needs its gather; with overlap, unit i+1's is issued as unit i starts
    if (overlap) ready[0] = issue(q, 0, slm_collective_s(d, 1, ag_fwd * u->frac[0]));
    for (int i = 0; i < u->n; i++) {
        if (!overlap) ready[i] = issue(q, t, slm_collective_s(d, 1, ag_fwd * u->frac[i]));
        double start = fmax(t, ready[i]);
        if (overlap && i + 1 < u->n) ready[i + 1] = issue(q, start, slm_collective_s(d, 1, ag_fwd * u->frac[i + 1]));
        t = start + u->fwd_s[i];
        busy += u->fwd_s[i];
    }
    // backward, head first; with full shard a unit is gathered again (the embedding, last, is not)
    const int last = u->n - 1;
    for (int i = last; i >= 0; i--) ready[i] = t;
    if (full && overlap) ready[last] = issue(q, t, slm_collective_s(d, 1, ag_bwd * u->frac[last]));
    for (int i = last; i >= 0; i--) {
        int gathered = full && i > 0;
        if (gathered && !overlap) ready[i] = issue(q, t, slm_collective_s(d, 1, ag_bwd * u->frac[i]));
        double start = fmax(t, ready[i]);
        if (overlap && full && i - 1 > 0)
            ready[i - 1] = issue(q, start, slm_collective_s(d, 1, ag_bwd * u->frac[i - 1]));
        t = start + u->bwd_s[i];
        busy += u->bwd_s[i];
        double end = issue(q, t, slm_collective_s(d, 2, rs * u->frac[i]));
        if (!overlap) t = end;
    }
    return fmax(t, q->link_free_s) - busy;
}

void slm_predict(const slm_run_config *rc, const slm_perf_device *d, slm_prediction *out) {
    memset(out, 0, sizeof *out);
    slm_rank_plan_compute(rc, d->dtype, d->framework_bytes, &out->plan);
    out->oom = out->plan.peak_bytes > d->mem_capacity_bytes;
    clock_acc a = {.d = d, .e = (double)out->plan.elem_bytes};
    const int L = rc->model.n_layers, accum = slm_grad_accum(rc);
    out->embed_fwd_s = embed_s(rc, &a, 0);
    out->block_fwd_s = block_s(rc, &a, 0);
    out->head_fwd_s = head_s(rc, &a, 0);
    out->embed_bwd_s = embed_s(rc, &a, 1);
    out->block_bwd_s = block_s(rc, &a, 1);
    out->head_bwd_s = head_s(rc, &a, 1);
    out->attention_s = a.attn_s * L;
    double fwd = out->embed_fwd_s + L * out->block_fwd_s + out->head_fwd_s;
    double bwd = out->embed_bwd_s + L * out->block_bwd_s + out->head_bwd_s;
    out->compute_s = accum * (fwd + bwd);

    // AdamW (read p, g, m, v; write p, m, v), the gradient norm and zeroing, over the owned fp32 parameters
    // (counted by the fp32 gradients: the parameters' bytes hold the bf16 compute copy too)
    const double own = (double)out->plan.cost.bytes[SLM_MEM_GRADS] / 4;
    const double opt_bytes = own * (28 + 4 + 4 + (out->plan.elem_bytes == 2 ? 2 : 0));
    out->optimizer_s = opt_bytes / (d->mem_bw_bytes_per_s * d->eff.e_bw) + 3.0 * (L + 2) * d->eff.launch_s;

    if (rc->world_size > 1 && rc->strategy != SLM_STRATEGY_SINGLE) {
        slm_param_layout lay;
        slm_param_layout_init(&lay, &rc->model);
        units_t u = {.n = lay.n_units};
        double *buf = slm_xcalloc(4 * (size_t)u.n, sizeof(double));
        u.frac = buf, u.fwd_s = buf + u.n, u.bwd_s = buf + 2 * u.n, u.ready_s = buf + 3 * u.n;
        for (int i = 0; i < u.n; i++) {
            u.frac[i] = (double)lay.unit_size[i] / lay.total;
            u.fwd_s[i] = i == 0 ? out->embed_fwd_s : i == u.n - 1 ? out->head_fwd_s : out->block_fwd_s;
            u.bwd_s[i] = i == 0 ? out->embed_bwd_s : i == u.n - 1 ? out->head_bwd_s : out->block_bwd_s;
        }
        const slm_strategy_cost *cost = &out->plan.cost;
        link_queue q = {0};
        if (rc->strategy == SLM_STRATEGY_DDP) {
            out->comm_exposed_s = ddp_exposed(d, &u, cost->all_reduce_bytes, rc->overlap, &q);
            out->comm_s = q.busy_s;
        } else {
            const int full = rc->strategy == SLM_STRATEGY_FSDP_FULL;
            // the plan's bytes per step, split into micro steps and into forward and backward gathers
            const double ag = cost->all_gather_bytes / accum, rs = cost->reduce_scatter_bytes / accum;
            const double whole = ag / (full ? 2 - u.frac[0] : 1);
            double exposed = fsdp_exposed(d, &u, whole, whole, rs, full, rc->overlap, &q);
            out->comm_exposed_s = accum * exposed;
            out->comm_s = accum * q.busy_s;
        }
        free(buf);
        slm_param_layout_free(&lay);
        // the loss and the gradient norm: two scalar all-reduces, latency only
        double scalars = 2 * slm_collective_s(d, 0, 8);
        out->comm_s += scalars;
        out->comm_exposed_s += scalars;
    }
    out->step_s = out->compute_s + out->comm_exposed_s + out->optimizer_s;
}
