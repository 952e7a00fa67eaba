// optim.c — AdamW, clipping and the schedule over the op table.
#include "train/optim.h"

#include <math.h>

int slm_adamw_init(slm_adamw_state *st, slm_model *m, slm_err *err) {
    size_t bytes = m->layout.total * sizeof(float);
    st->t = 0;
    st->m = slm_alloc(m->be, bytes, SLM_MEM_OPTIMIZER);
    st->v = st->m ? slm_alloc(m->be, bytes, SLM_MEM_OPTIMIZER) : NULL;
    if (!st->v) return slm_mem_oom(m->be, err, "the AdamW state");
    m->be->zero(st->m, bytes);
    m->be->zero(st->v, bytes);
    return 0;
}

void slm_adamw_free(slm_adamw_state *st, slm_model *m) {
    slm_free(m->be, st->m);
    slm_free(m->be, st->v);
    st->m = st->v = NULL;
}

float slm_clip_scaled(const slm_ops *op, float *g, size_t n, double sumsq, float max_norm) {
    float norm = (float)sqrt(sumsq);
    if (max_norm > 0 && norm > max_norm) op->scale(g, n, max_norm / (norm + 1e-6f));
    return norm;
}

float slm_clip_grad_norm(slm_model *m, float max_norm) {
    size_t n = m->layout.total;  // padding is zero, so it adds nothing
    return slm_clip_scaled(m->be->ops, m->grads, n, m->be->ops->sumsq(m->grads, n), max_norm);
}

void slm_adamw_slice(const slm_model *m, size_t begin, size_t n, float *p, const float *g, float *mom, float *v,
                     void *p_compute, int t, const slm_adamw_config *cfg, float lr) {
    const size_t end = begin + n, elem = slm_dtype_bytes(m->be->compute);
    for (int i = 0; i < m->layout.n_tensors; i++) {
        const slm_tensor *ts = &m->layout.tensors[i];
        size_t lo = ts->offset, hi = ts->offset + (size_t)ts->rows * ts->cols;
        if (lo < begin) lo = begin;
        if (hi > end) hi = end;
        if (lo >= hi) continue;
        size_t at = lo - begin;
        void *pc = p_compute ? (char *)p_compute + at * elem : NULL;
        m->be->ops->adamw(p + at, g + at, mom + at, v + at, pc, hi - lo, lr, cfg->beta1, cfg->beta2, cfg->eps,
                          ts->decay ? cfg->weight_decay : 0.0f, t);
    }
}

void slm_adamw_step(slm_adamw_state *st, slm_model *m, const slm_adamw_config *cfg, float lr) {
    st->t++;
    void *p_c = m->params_c == m->params ? NULL : m->params_c;
    slm_adamw_slice(m, 0, m->layout.total, m->params, m->grads, st->m, st->v, p_c, st->t, cfg, lr);
}

float slm_lr_at(int step, int warmup, int total_steps, float lr_max, float lr_min) {
    if (step < warmup) return lr_max * (float)(step + 1) / (float)warmup;
    if (total_steps <= warmup) return lr_max;
    double progress = (double)(step - warmup) / (double)(total_steps - warmup);
    if (progress > 1.0) progress = 1.0;
    return lr_min + (float)(0.5 * (1.0 + cos(3.141592653589793 * progress))) * (lr_max - lr_min);
}
