// strategy.c — the four strategies of strategy.h, once, over comm.h and the
// model's unit hooks. The hooks are called in the graph's order (llama.h):
// forward units 0 … L+1 (and 0 again for a tied head), backward L+1 (and 0
// when tied), L … 1, then the embedding's gradient (unit 0). Prefetching
// relies on that order; nothing else does.
#include "dist/strategy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t slm_shard_block(size_t size, int world) {
    size_t per = (size + (size_t)world - 1) / (size_t)world;
    return (per + 15) / 16 * 16;
}

// ---- pools of whole-unit buffers (FSDP) -------------------------------------

static int pool_alloc(slm_backend *be, slm_pool *pool, int n, size_t floats, slm_mem_cat cat) {
    pool->n = n;
    pool->floats = floats;
    for (int i = 0; i < n; i++) {
        pool->busy[i] = 0;
        if (!(pool->buf[i] = slm_alloc(be, floats * sizeof(float), cat))) return -1;
    }
    return 0;
}

static float *pool_take(slm_pool *pool) {
    for (int i = 0; i < pool->n; i++)
        if (!pool->busy[i]) {
            pool->busy[i] = 1;
            return pool->buf[i];
        }
    slm_die(SLM_EXIT_FAIL, "internal error: a strategy pool of %d buffers ran dry", pool->n);
}

static void pool_give(slm_pool *pool, float *buf) {
    for (int i = 0; i < pool->n; i++)
        if (pool->buf[i] == buf) pool->busy[i] = 0;
}

static void pool_free(slm_backend *be, slm_pool *pool) {
    for (int i = 0; i < pool->n; i++) slm_free(be, pool->buf[i]);
    pool->n = 0;
}

// ---- parameters: gather before use, free after (FSDP) -----------------------

static slm_parallel *ctx_of(void *ctx) { return ctx; }

static void gather_start(slm_parallel *st, int u, int nonblocking) {
    slm_unit_state *us = &st->units[u];
    if (us->full) return;
    us->full = pool_take(&st->param_pool[us->cls]);
    us->gather = st->comm->all_gather(st->comm, us->full, st->p + us->own_off, us->block, SLM_F32, nonblocking);
}

static float *hold(slm_parallel *st, int u) {
    slm_unit_state *us = &st->units[u];
    st->comm->progress(st->comm);
    gather_start(st, u, 0);
    st->comm->wait(st->comm, us->gather);
    us->gather = 0;
    us->users++;
    return us->full;
}

static void drop(slm_parallel *st, int u) {
    slm_unit_state *us = &st->units[u];
    st->comm->wait(st->comm, us->gather);
    us->gather = 0;
    pool_give(&st->param_pool[us->cls], us->full);
    us->full = NULL;
}

static float *sharded_params_fwd(void *ctx, int u) {
    slm_parallel *st = ctx_of(ctx);
    st->backward = 0;
    float *p = hold(st, u);
    if (st->overlap && u + 1 < st->model->layout.n_units) gather_start(st, u + 1, 1);
    return p;
}

static float *sharded_params_bwd(void *ctx, int u) {
    slm_parallel *st = ctx_of(ctx);
    st->backward = 1;
    float *p = hold(st, u);
    // the next unit whose parameters the backward reads: blocks L … 1 (the
    // embedding's backward needs only its gradient; a tied head asks for it itself)
    if (st->overlap && u - 1 >= 1) gather_start(st, u - 1, 1);
    return p;
}

static void sharded_release(void *ctx, int u) {
    slm_parallel *st = ctx_of(ctx);
    slm_unit_state *us = &st->units[u];
    if (--us->users > 0) return;
    if (!st->keep_gathered || st->backward || st->eval) drop(st, u);
}

// ---- gradients: whole unit during the backward, then reduce-scattered -------

// Adds the finished reduce-scatter into the owned gradients and frees the unit's buffer.
static void reduce_finish(slm_parallel *st) {
    if (st->reduce_unit < 0) return;
    slm_unit_state *us = &st->units[st->reduce_unit];
    st->comm->wait(st->comm, st->reduce_req);
    st->model->be->ops->axpy(st->g + us->own_off, st->reduce_out, us->block, 1.0f);
    pool_give(&st->grad_pool[us->cls], us->full_grad);
    us->full_grad = NULL;
    st->reduce_unit = -1;
    st->reduce_req = 0;
}

static float *sharded_grads(void *ctx, int u) {
    slm_parallel *st = ctx_of(ctx);
    slm_unit_state *us = &st->units[u];
    if (!us->full_grad) {
        us->full_grad = pool_take(&st->grad_pool[us->cls]);
        st->model->be->zero(us->full_grad, us->block * (size_t)st->comm->world * sizeof(float));
    }
    return us->full_grad;
}

static void sharded_grads_ready(void *ctx, int u) {
    slm_parallel *st = ctx_of(ctx);
    slm_unit_state *us = &st->units[u];
    reduce_finish(st);  // one reduce-scatter in flight at a time: its output buffer is shared
    st->reduce_unit = u;
    st->reduce_req = st->comm->reduce_scatter(st->comm, st->reduce_out, us->full_grad, us->block, SLM_F32, SLM_AVG,
                                              st->overlap);
    if (!st->overlap) reduce_finish(st);
}

// ---- replicated (single, DDP) -----------------------------------------------

static float *flat_params(void *ctx, int u) {
    slm_parallel *st = ctx_of(ctx);
    st->comm->progress(st->comm);
    return st->p + st->units[u].own_off;
}
static float *flat_grads(void *ctx, int u) {
    slm_parallel *st = ctx_of(ctx);
    return st->g + st->units[u].own_off;
}
static void flat_release(void *ctx, int u) {}

// DDP: the unit's gradient is final for this step; start its bucket's all-reduce.
static void ddp_grads_ready(void *ctx, int u) {
    slm_parallel *st = ctx_of(ctx);
    slm_unit_state *us = &st->units[u];
    if (!st->communicate || !st->overlap) return;
    us->reduce = st->comm->all_reduce(st->comm, st->g + us->own_off, us->size, SLM_F32, SLM_AVG, 1);
}

// ---- building -----------------------------------------------------------------

// How many whole-unit buffers each pool class needs at once (see the hook
// order at the top): class 0 the embedding and head units, class 1 blocks.
static void pool_counts(const slm_parallel *st, int tied, int params[2], int grads[2]) {
    const int L = st->model->cfg.n_layers;
    if (st->keep_gathered) {  // every unit held from its forward to its backward
        params[0] = 2;
        params[1] = L;
    } else {  // the unit in use and the prefetched one; a tied head holds the embedding too
        params[0] = tied ? 2 : 1;
        params[1] = st->overlap ? 2 : 1;
    }
    // the unit in backward and the one whose reduce-scatter is in flight;
    // a tied embedding's gradient lives through the whole backward
    grads[0] = tied ? 2 : 1;
    grads[1] = st->overlap ? 2 : 1;
    if (L == 0) params[1] = grads[1] = 0;
}

static int init_sharded(slm_parallel *st, slm_backend *be, slm_err *err) {
    const slm_param_layout *lay = &st->model->layout;
    const int W = st->comm->world, R = st->comm->rank, last = lay->n_units - 1;
    size_t cls_floats[2] = {0, 0}, max_block = 0;
    for (int u = 0; u < lay->n_units; u++) {
        slm_unit_state *us = &st->units[u];
        us->size = lay->unit_size[u];
        us->block = slm_shard_block(us->size, W);
        us->own_begin = (size_t)R * us->block;
        us->own_len = us->own_begin >= us->size ? 0
                      : us->size - us->own_begin < us->block ? us->size - us->own_begin
                                                             : us->block;
        us->own_off = st->n_own;
        us->cls = u == 0 || u == last ? 0 : 1;
        st->n_own += us->block;
        if (us->block * W > cls_floats[us->cls]) cls_floats[us->cls] = us->block * W;
        if (us->block > max_block) max_block = us->block;
    }
    const size_t bytes = st->n_own * sizeof(float);
    if (!(st->p = slm_alloc(be, bytes, SLM_MEM_PARAMS))) return slm_mem_oom(be, err, "the parameter shards");
    if (!(st->g = slm_alloc(be, bytes, SLM_MEM_GRADS))) return slm_mem_oom(be, err, "the gradient shards");
    be->zero(st->p, bytes);
    be->zero(st->g, bytes);
    int np[2], ng[2];
    pool_counts(st, st->model->cfg.tie_embeddings, np, ng);
    for (int c = 0; c < 2; c++) {
        if (pool_alloc(be, &st->param_pool[c], np[c], cls_floats[c], SLM_MEM_PARAMS))
            return slm_mem_oom(be, err, "the gathered parameters");
        if (pool_alloc(be, &st->grad_pool[c], ng[c], cls_floats[c], SLM_MEM_GRADS))
            return slm_mem_oom(be, err, "the unit gradients");
    }
    if (!(st->reduce_out = slm_alloc(be, max_block * sizeof(float), SLM_MEM_COMM)))
        return slm_mem_oom(be, err, "the reduce-scatter buffer");
    st->model->hooks = (slm_unit_hooks){st, sharded_params_fwd, sharded_params_bwd, sharded_release, sharded_grads,
                                        sharded_grads_ready};
    return 0;
}

void slm_units_whole(const slm_param_layout *lay, slm_unit_state *units) {
    for (int u = 0; u < lay->n_units; u++)
        units[u] = (slm_unit_state){.size = lay->unit_size[u],
                                    .block = lay->unit_size[u],
                                    .own_len = lay->unit_size[u],
                                    .own_off = lay->unit_offset[u]};
}

static int init_replicated(slm_parallel *st, slm_backend *be, slm_err *err) {
    const slm_param_layout *lay = &st->model->layout;
    slm_units_whole(lay, st->units);
    st->n_own = lay->total;
    st->p = st->model->params;
    st->g = st->model->grads;
    st->model->hooks = (slm_unit_hooks){st, flat_params, flat_params, flat_release, flat_grads, ddp_grads_ready};
    return 0;
}

int slm_parallel_init(slm_parallel *st, slm_model *m, const slm_model_config *c, slm_backend *be, slm_comm *comm,
                      slm_strategy kind, int overlap, slm_err *err) {
    memset(st, 0, sizeof *st);
    st->kind = kind;
    st->comm = comm;
    st->model = m;
    st->sharded = kind == SLM_STRATEGY_FSDP_FULL || kind == SLM_STRATEGY_FSDP_GRAD_OP;
    st->keep_gathered = kind == SLM_STRATEGY_FSDP_GRAD_OP;
    st->overlap = overlap;
    st->reduce_unit = -1;
    st->communicate = 1;
    if (st->sharded)
        slm_model_init_shell(m, c, be);
    else if (slm_model_init(m, c, be, 1, err))
        return -1;
    st->units = slm_xcalloc((size_t)m->layout.n_units, sizeof *st->units);
    if (st->sharded ? init_sharded(st, be, err) : init_replicated(st, be, err)) return -1;
    size_t bytes = st->n_own * sizeof(float);
    st->opt.m = slm_alloc(be, bytes, SLM_MEM_OPTIMIZER);
    st->opt.v = st->opt.m ? slm_alloc(be, bytes, SLM_MEM_OPTIMIZER) : NULL;
    if (!st->opt.v) return slm_mem_oom(be, err, "the AdamW state");
    be->zero(st->opt.m, bytes);
    be->zero(st->opt.v, bytes);
    return 0;
}

void slm_parallel_free(slm_parallel *st) {
    if (!st->model) return;
    slm_backend *be = st->model->be;
    slm_free(be, st->opt.m);
    slm_free(be, st->opt.v);
    if (st->sharded) {
        for (int c = 0; c < 2; c++) {
            pool_free(be, &st->param_pool[c]);
            pool_free(be, &st->grad_pool[c]);
        }
        slm_free(be, st->reduce_out);
        slm_free(be, st->p);
        slm_free(be, st->g);
    }
    slm_model_free(st->model);
    free(st->units);
    st->units = NULL;
    st->model = NULL;
}

void slm_parallel_init_weights(slm_parallel *st, uint64_t seed) {
    const slm_param_layout *lay = &st->model->layout;
    float *host = slm_xmalloc(lay->total * sizeof(float));
    slm_model_weights_host(lay, seed, host);
    for (int u = 0; u < lay->n_units; u++) {
        const slm_unit_state *us = &st->units[u];
        st->model->be->to_device(st->p + us->own_off, host + lay->unit_offset[u] + us->own_begin,
                                 us->own_len * sizeof(float));
    }
    free(host);
}

// ---- the step -----------------------------------------------------------------

void slm_parallel_zero_grads(slm_parallel *st) { st->model->be->zero(st->g, st->n_own * sizeof(float)); }

void slm_parallel_begin_backward(slm_parallel *st, int last_micro) { st->communicate = last_micro; }

void slm_parallel_end_backward(slm_parallel *st) {
    slm_comm *c = st->comm;
    if (st->sharded) {
        reduce_finish(st);
        for (int u = 0; u < st->model->layout.n_units; u++)  // fsdp-grad-op still holds the embedding
            if (st->units[u].full && !st->units[u].users) drop(st, u);
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

float slm_parallel_clip(slm_parallel *st, float max_norm) {
    const slm_ops *op = st->model->be->ops;
    double sumsq = op->sumsq(st->g, st->n_own);  // padding is zero, so it adds nothing
    if (st->sharded) st->comm->all_reduce(st->comm, &sumsq, 1, SLM_F64, SLM_SUM, 0);
    return slm_clip_scaled(op, st->g, st->n_own, sumsq, max_norm);
}

void slm_parallel_adamw(slm_parallel *st, const slm_adamw_config *cfg, float lr) {
    const slm_param_layout *lay = &st->model->layout;
    st->opt.t++;
    for (int u = 0; u < lay->n_units; u++) {
        const slm_unit_state *us = &st->units[u];
        size_t at = us->own_off;
        slm_adamw_slice(st->model, lay->unit_offset[u] + us->own_begin, us->own_len, st->p + at, st->g + at,
                        st->opt.m + at, st->opt.v + at, st->opt.t, cfg, lr);
    }
}

void slm_parallel_set_eval(slm_parallel *st, int on) { st->eval = on; }
