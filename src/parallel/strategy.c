// strategy.c — the four strategies of strategy.h, once, over comm.h and the
// model's unit hooks. The hooks are called in the graph's order (llama.h):
// forward units 0 … L+1 (and 0 again for a tied head), backward L+1 (and 0
// when tied), L … 1, then the embedding's gradient (unit 0). Prefetching and
// the slot count (slm_model_replay_hooks) rely on that order.
#include "parallel/strategy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t slm_shard_block(size_t size, int world) {
    size_t per = (size + (size_t)world - 1) / (size_t)world;
    return (per + 15) / 16 * 16;
}

size_t slm_shard_slice(size_t size, int r, int world, size_t *begin) {
    size_t block = slm_shard_block(size, world);
    *begin = (size_t)r * block;
    if (*begin >= size) return 0;
    return size - *begin < block ? size - *begin : block;
}

// ---- slots of whole-unit buffers (FSDP) -------------------------------------

// A free slot for a unit of class cls: a block takes a block slot, else a big
// one. While sizing, a missing slot is added; afterwards it is a bug.
static int slot_take(slm_strategy *st, int cls) {
    for (int pass = cls; pass >= 0; pass--)
        for (int i = 0; i < st->n_slots; i++)
            if (!st->slots[i].busy && st->slots[i].cls == pass) {
                st->slots[i].busy = 1;
                return i;
            }
    SLM_ASSERT(st->sizing, "the strategy's %d unit slots ran dry", st->n_slots);
    st->slots = realloc(st->slots, (size_t)(st->n_slots + 1) * sizeof *st->slots);
    if (!st->slots) slm_die(SLM_EXIT_FAIL, "out of host memory for the strategy's slots");
    st->slots[st->n_slots] = (slm_slot){NULL, cls, 1};
    return st->n_slots++;
}

static void *slot_buf(const slm_strategy *st, int i) { return st->slots[i].buf; }

// This rank's parameters of unit u in the compute dtype.
static void *own_params(const slm_strategy *st, int u) {
    return (char *)st->p_c + st->units[u].own_off * slm_dtype_bytes(st->compute);
}

// ---- parameters: gather before use, free after (FSDP) -----------------------

static void gather_start(slm_strategy *st, int u, int nonblocking) {
    slm_unit_state *us = &st->units[u];
    if (us->p_slot >= 0) return;
    us->p_slot = slot_take(st, us->cls);
    if (st->sizing) st->gathered += (double)us->block * st->comm->world;
    if (!st->sizing)
        us->gather = st->comm->all_gather(st->comm, slot_buf(st, us->p_slot), own_params(st, u), us->block, st->compute,
                                          nonblocking);
}

static void *hold(slm_strategy *st, int u) {
    slm_unit_state *us = &st->units[u];
    if (!st->sizing) st->comm->progress(st->comm);
    gather_start(st, u, 0);
    st->comm->wait(st->comm, us->gather);
    us->gather = 0;
    us->users++;
    return slot_buf(st, us->p_slot);
}

static void drop(slm_strategy *st, int u) {
    slm_unit_state *us = &st->units[u];
    st->comm->wait(st->comm, us->gather);
    us->gather = 0;
    st->slots[us->p_slot].busy = 0;
    us->p_slot = -1;
}

static void *sharded_params_fwd(void *ctx, int u) {
    slm_strategy *st = ctx;
    const int last = st->model->layout.n_units - 1;
    // a tied head reading the embedding again is not the start of a forward: nothing to prefetch
    int tied_head = u == 0 && st->units[last].users > 0;
    st->backward = 0;
    void *p = hold(st, u);
    if (st->overlap && u < last && !tied_head) gather_start(st, u + 1, 1);
    return p;
}

static void *sharded_params_bwd(void *ctx, int u) {
    slm_strategy *st = ctx;
    st->backward = 1;
    void *p = hold(st, u);
    // the next unit whose parameters the backward reads: blocks L … 1 (the
    // embedding's backward needs only its gradient; a tied head asks for it itself)
    if (st->overlap && u - 1 >= 1) gather_start(st, u - 1, 1);
    return p;
}

static void sharded_release(void *ctx, int u) {
    slm_strategy *st = ctx;
    slm_unit_state *us = &st->units[u];
    if (--us->users > 0) return;
    if (!st->keep_gathered || st->backward || st->eval) drop(st, u);
}

// ---- gradients: whole unit during the backward, then reduce-scattered -------

// Adds the finished reduce-scatter into the owned gradients and frees the unit's buffer.
static void reduce_finish(slm_strategy *st) {
    if (st->reduce_unit < 0) return;
    slm_unit_state *us = &st->units[st->reduce_unit];
    if (!st->sizing) {  // the reduce-scatter was in place: this rank's block is at the slot's start
        st->comm->wait(st->comm, st->reduce_req);
        st->model->be->ops->axpy(st->g + us->own_off, slot_buf(st, us->g_slot), us->block, 1.0f);
    }
    st->slots[us->g_slot].busy = 0;
    us->g_slot = -1;
    st->reduce_unit = -1;
    st->reduce_req = 0;
}

static float *sharded_grads(void *ctx, int u) {
    slm_strategy *st = ctx;
    slm_unit_state *us = &st->units[u];
    if (us->g_slot < 0) {
        us->g_slot = slot_take(st, us->cls);
        if (!st->sizing)
            st->model->be->zero(slot_buf(st, us->g_slot), us->block * (size_t)st->comm->world * sizeof(float));
    }
    return slot_buf(st, us->g_slot);
}

static void sharded_grads_ready(void *ctx, int u) {
    slm_strategy *st = ctx;
    slm_unit_state *us = &st->units[u];
    reduce_finish(st);  // one reduce-scatter in flight at a time
    st->reduce_unit = u;
    if (st->sizing) st->reduced += (double)us->block * st->comm->world;
    float *buf = slot_buf(st, us->g_slot);
    if (!st->sizing)
        st->reduce_req = st->comm->reduce_scatter(st->comm, buf, buf, us->block, SLM_F32, SLM_AVG, st->overlap);
    if (!st->overlap) reduce_finish(st);
}

// ---- replicated (single, DDP): the model's own flat hooks -------------------

// Gives non-blocking collectives in flight a chance to progress, then the flat buffers.
static void *flat_params(void *ctx, int u) {
    slm_strategy *st = ctx;
    st->comm->progress(st->comm);
    return slm_model_flat_params(st->model, u);
}
static float *flat_grads(void *ctx, int u) {
    slm_strategy *st = ctx;
    return slm_model_flat_grads(st->model, u);
}

// DDP: the unit's gradient is final for this step; start its bucket's all-reduce.
static void ddp_grads_ready(void *ctx, int u) {
    slm_strategy *st = ctx;
    slm_unit_state *us = &st->units[u];
    if (!st->communicate || !st->overlap) return;
    us->reduce = st->comm->all_reduce(st->comm, st->g + us->own_off, us->size, SLM_F32, SLM_AVG, 1);
}

// ---- building -----------------------------------------------------------------

// Replays the hook calls of two micro steps (slm_model_replay_hooks) with
// `sizing` on: slots are added as they are first needed, so afterwards there
// are exactly as many as a step holds at once, for this strategy, overlap and
// model.
static void size_slots(slm_strategy *st) {
    st->sizing = 1;
    for (int micro = 0; micro < 2; micro++) {
        slm_model_replay_hooks(st->model, 0);
        slm_strategy_begin_backward(st, 1);
        slm_model_replay_hooks(st->model, 1);
        slm_strategy_end_backward(st);
    }
    st->sizing = 0;
}

// The blocks this rank owns, the slot sizes, and (by the replay) the slots.
static void plan_sharded(slm_strategy *st) {
    const slm_param_layout *lay = &st->model->layout;
    const int W = st->comm->world, R = st->comm->rank, last = lay->n_units - 1;
    for (int u = 0; u < lay->n_units; u++) {
        slm_unit_state *us = &st->units[u];
        us->size = lay->unit_size[u];
        us->block = slm_shard_block(us->size, W);
        us->own_len = slm_shard_slice(us->size, R, W, &us->own_begin);
        us->own_off = st->n_own;
        us->cls = u == 0 || u == last ? 0 : 1;
        us->p_slot = us->g_slot = -1;
        st->n_own += us->block;
        if (us->block * W > st->slot_floats[us->cls]) st->slot_floats[us->cls] = us->block * W;
    }
    if (st->slot_floats[1] > st->slot_floats[0]) st->slot_floats[0] = st->slot_floats[1];  // big serves any unit
    st->model->hooks = (slm_unit_hooks){
        st, sharded_params_fwd, sharded_params_bwd, sharded_release, sharded_grads, sharded_grads_ready};
    size_slots(st);
}

static int alloc_sharded(slm_strategy *st, slm_backend *be, slm_err *err) {
    const size_t bytes = st->n_own * sizeof(float), bytes_c = st->n_own * slm_dtype_bytes(st->compute);
    if (!(st->p = slm_alloc(be, bytes, SLM_MEM_PARAMS))) return slm_mem_oom(be, err, "the parameter shards");
    st->p_c = st->p;
    if (st->compute != SLM_F32 && !(st->p_c = slm_alloc(be, bytes_c, SLM_MEM_PARAMS)))
        return slm_mem_oom(be, err, "the compute copy of the parameter shards");
    if (!(st->g = slm_alloc(be, bytes, SLM_MEM_GRADS))) return slm_mem_oom(be, err, "the gradient shards");
    be->zero(st->p, bytes);
    be->zero(st->p_c, bytes_c);
    be->zero(st->g, bytes);
    for (int i = 0; i < st->n_slots; i++)
        if (!(st->slots[i].buf = slm_alloc(be, st->slot_floats[st->slots[i].cls] * sizeof(float), SLM_MEM_COMM)))
            return slm_mem_oom(be, err, "the whole-unit buffers of FSDP");
    return 0;
}

// The state every strategy starts from, for the plan and for the run alike.
static void begin(slm_strategy *st, slm_model *m, slm_comm *comm, slm_strategy_kind kind, int overlap,
                  slm_dtype compute) {
    memset(st, 0, sizeof *st);
    st->comm = comm;
    st->model = m;
    st->compute = compute;
    st->sharded = kind == SLM_STRATEGY_FSDP_FULL || kind == SLM_STRATEGY_FSDP_GRAD_OP;
    st->keep_gathered = kind == SLM_STRATEGY_FSDP_GRAD_OP;
    st->overlap = overlap;
    st->reduce_unit = -1;
    st->communicate = 1;
}

void slm_strategy_plan(const slm_model_config *c, slm_strategy_kind kind, int overlap, int world, int grad_accum,
                       slm_dtype compute, slm_strategy_cost *out) {
    slm_comm comm = *slm_comm_single();  // sizing communicates nothing: only the world size matters
    comm.world = world;
    slm_model m;
    slm_strategy st;
    begin(&st, &m, &comm, kind, overlap, compute);
    const size_t elem = slm_dtype_bytes(compute), f = sizeof(float);
    slm_model_init_shell(&m, c, NULL);
    st.units = slm_xcalloc((size_t)m.layout.n_units, sizeof *st.units);
    memset(out, 0, sizeof *out);
    size_t *bytes = out->bytes;
    if (st.sharded) {
        plan_sharded(&st);  // its replay is two micro steps
        for (int i = 0; i < st.n_slots; i++) bytes[SLM_MEM_COMM] += st.slot_floats[st.slots[i].cls] * f;
        out->all_gather_bytes = st.gathered / 2 * grad_accum * elem;
        out->reduce_scatter_bytes = st.reduced / 2 * grad_accum * f;
    } else {
        st.n_own = m.layout.total;
        if (kind == SLM_STRATEGY_DDP) out->all_reduce_bytes = (double)m.layout.total * f;
    }
    if (world == 1) out->all_reduce_bytes = out->all_gather_bytes = out->reduce_scatter_bytes = 0;
    const double ring = (double)(world - 1) / world;
    out->sent_bytes = ring * (2 * out->all_reduce_bytes + out->all_gather_bytes + out->reduce_scatter_bytes);
    bytes[SLM_MEM_PARAMS] = st.n_own * (f + (compute == SLM_F32 ? 0 : elem));  // master and compute copy
    bytes[SLM_MEM_GRADS] = st.n_own * f;
    bytes[SLM_MEM_OPTIMIZER] = 2 * st.n_own * f;
    free(st.slots);
    free(st.units);
    slm_param_layout_free(&m.layout);
}

void slm_units_whole(const slm_param_layout *lay, slm_unit_state *units) {
    for (int u = 0; u < lay->n_units; u++)
        units[u] = (slm_unit_state){.size = lay->unit_size[u],
                                    .block = lay->unit_size[u],
                                    .own_len = lay->unit_size[u],
                                    .own_off = lay->unit_offset[u]};
}

static int init_replicated(slm_strategy *st, slm_backend *be, slm_err *err) {
    const slm_param_layout *lay = &st->model->layout;
    slm_units_whole(lay, st->units);
    st->n_own = lay->total;
    st->p = st->model->params;
    st->p_c = st->model->params_c;
    st->g = st->model->grads;
    st->model->hooks = (slm_unit_hooks){st, flat_params, flat_params, slm_hook_none, flat_grads, ddp_grads_ready};
    return 0;
}

int slm_strategy_init(slm_strategy *st, slm_model *m, const slm_model_config *c, slm_backend *be, slm_comm *comm,
                      slm_strategy_kind kind, int overlap, slm_err *err) {
    begin(st, m, comm, kind, overlap, be->compute);
    if (st->sharded)
        slm_model_init_shell(m, c, be);
    else if (slm_model_init(m, c, be, 1, err))
        return -1;
    st->units = slm_xcalloc((size_t)m->layout.n_units, sizeof *st->units);
    if (st->sharded) plan_sharded(st);
    return st->sharded ? alloc_sharded(st, be, err) : init_replicated(st, be, err);
}

void slm_strategy_free(slm_strategy *st) {
    if (!st->model) return;
    slm_backend *be = st->model->be;
    if (st->sharded) {
        for (int u = 0; u < st->model->layout.n_units; u++) st->comm->wait(st->comm, st->units[u].gather);
        st->comm->wait(st->comm, st->reduce_req);
        for (int i = 0; i < st->n_slots; i++) slm_free(be, st->slots[i].buf);
        free(st->slots);
        if (st->p_c != st->p) slm_free(be, st->p_c);
        slm_free(be, st->p);
        slm_free(be, st->g);
    }
    slm_model_free(st->model);
    free(st->units);
    st->units = NULL;
    st->model = NULL;
}

void slm_strategy_init_weights(slm_strategy *st, uint64_t seed) {
    const slm_param_layout *lay = &st->model->layout;
    float *host = slm_xmalloc(lay->total * sizeof(float));
    slm_model_weights_host(lay, seed, host);
    for (int u = 0; u < lay->n_units; u++) {
        const slm_unit_state *us = &st->units[u];
        st->model->be->to_device(st->p + us->own_off, host + lay->unit_offset[u] + us->own_begin,
                                 us->own_len * sizeof(float));
    }
    free(host);
    slm_strategy_refresh_compute(st);
}

void slm_strategy_refresh_compute(slm_strategy *st) {
    if (st->p_c != st->p) st->model->be->ops->to_compute(st->p_c, st->p, st->n_own);
}

// ---- the step -----------------------------------------------------------------

void slm_strategy_zero_grads(slm_strategy *st) { st->model->be->zero(st->g, st->n_own * sizeof(float)); }

void slm_strategy_begin_backward(slm_strategy *st, int last_micro) { st->communicate = last_micro; }

void slm_strategy_end_backward(slm_strategy *st) {
    slm_comm *c = st->comm;
    if (st->sharded) {
        reduce_finish(st);
        for (int u = 0; u < st->model->layout.n_units; u++)  // fsdp-grad-op still holds the embedding
            if (st->units[u].p_slot >= 0 && !st->units[u].users) drop(st, u);
        return;
    }
    if (!st->communicate || c->world == 1) return;
    for (int u = st->model->layout.n_units - 1; u >= 0; u--) {
        slm_unit_state *us = &st->units[u];
        if (st->overlap) {
            c->wait(c, us->reduce);
            us->reduce = 0;
        } else {
            c->all_reduce(c, st->g + us->own_off, us->size, SLM_F32, SLM_AVG, 0);
        }
    }
}

slm_owned slm_strategy_owned(const slm_strategy *st) {
    return (slm_owned){.p = st->p,
                       .g = st->g,
                       .p_c = st->p_c == st->p ? NULL : st->p_c,
                       .n = st->n_own,
                       .units = st->units,
                       .norm_comm = st->sharded ? st->comm : NULL};
}

slm_owned slm_owned_model(const slm_model *m) {
    return (slm_owned){
        .p = m->params, .g = m->grads, .p_c = m->params_c == m->params ? NULL : m->params_c, .n = m->layout.total};
}

void slm_strategy_set_eval(slm_strategy *st, int on) { st->eval = on; }
