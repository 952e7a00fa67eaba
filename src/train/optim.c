// optim.c — clipping, AdamW and the schedule over the op table (optim.h).
#include "train/optim.h"

#include <math.h>

int slm_optimizer_init(slm_optimizer *o, const slm_model *m, const slm_owned *own, const slm_adamw_config *cfg,
                       slm_err *err) {
    slm_backend *be = m->be;
    const size_t bytes = own->n * sizeof(float);
    *o = (slm_optimizer){.model = m, .own = *own, .cfg = *cfg};
    o->m = slm_alloc(be, bytes, SLM_MEM_OPTIMIZER);
    o->v = o->m ? slm_alloc(be, bytes, SLM_MEM_OPTIMIZER) : NULL;
    if (!o->v) return slm_mem_oom(be, err, "the AdamW state");
    be->zero(o->m, bytes);
    be->zero(o->v, bytes);
    return 0;
}

int slm_optimizer_init_for(slm_optimizer *o, const slm_strategy *st, const slm_adamw_config *cfg, slm_err *err) {
    const slm_owned own = slm_strategy_owned(st);
    return slm_optimizer_init(o, st->model, &own, cfg, err);
}

void slm_optimizer_free(slm_optimizer *o) {
    if (!o->model) return;
    slm_free(o->model->be, o->m);
    slm_free(o->model->be, o->v);
    o->m = o->v = NULL;
    o->model = NULL;
}

float slm_optimizer_clip(slm_optimizer *o) {
    const slm_ops *op = o->model->be->ops;
    slm_comm *c = o->own.norm_comm;
    double sumsq = op->sumsq(o->own.g, o->own.n);  // padding is zero, so it adds nothing
    if (c) c->all_reduce(c, &sumsq, 1, SLM_F64, SLM_SUM, 0);
    float norm = (float)sqrt(sumsq), max_norm = o->cfg.grad_clip;
    if (max_norm > 0 && norm > max_norm) op->scale(o->own.g, o->own.n, max_norm / (norm + 1e-6f));
    return norm;
}

// AdamW on the elements [begin, begin + n) of the flat layout, held at offset
// `at` of the owned buffers: each tensor's part with its own weight decay,
// padding untouched.
static void step_slice(const slm_optimizer *o, size_t at, size_t begin, size_t n, float lr) {
    const slm_model *m = o->model;
    const slm_owned *own = &o->own;
    const slm_adamw_config *cfg = &o->cfg;
    const size_t end = begin + n, elem = slm_dtype_bytes(m->be->compute);
    for (int i = 0; i < m->layout.n_tensors; i++) {
        const slm_tensor *ts = &m->layout.tensors[i];
        size_t lo = ts->offset, hi = ts->offset + (size_t)ts->rows * ts->cols;
        if (lo < begin) lo = begin;
        if (hi > end) hi = end;
        if (lo >= hi) continue;
        size_t k = at + (lo - begin);
        void *pc = own->p_c ? (char *)own->p_c + k * elem : NULL;
        m->be->ops->adamw(own->p + k, own->g + k, o->m + k, o->v + k, pc, hi - lo, lr, cfg->beta1, cfg->beta2, cfg->eps,
                          ts->decay ? cfg->weight_decay : 0.0f, o->t);
    }
}

void slm_optimizer_step(slm_optimizer *o, float lr) {
    const slm_param_layout *lay = &o->model->layout;
    o->t++;
    for (int u = 0; u < lay->n_units; u++) {
        const slm_unit_state *us = o->own.units ? &o->own.units[u] : NULL;
        if (us)
            step_slice(o, us->own_off, lay->unit_offset[u] + us->own_begin, us->own_len, lr);
        else
            step_slice(o, lay->unit_offset[u], lay->unit_offset[u], lay->unit_size[u], lr);
    }
}

float slm_lr_at(int step, int warmup, int total_steps, float lr_max, float lr_min) {
    if (step < warmup) return lr_max * (float)(step + 1) / (float)warmup;
    if (total_steps <= warmup) return lr_max;
    double progress = (double)(step - warmup) / (double)(total_steps - warmup);
    if (progress > 1.0) progress = 1.0;
    return lr_min + (float)(0.5 * (1.0 + cos(3.141592653589793 * progress))) * (lr_max - lr_min);
}
