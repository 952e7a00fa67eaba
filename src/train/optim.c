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

float slm_clip_grad_norm(slm_model *m, float max_norm) {
    size_t n = m->layout.total;  // padding is zero, so it adds nothing
    float norm = (float)sqrt(m->be->ops->sumsq(m->grads, n));
    if (max_norm > 0 && norm > max_norm) m->be->ops->scale(m->grads, n, max_norm / (norm + 1e-6f));
    return norm;
}

void slm_adamw_step(slm_adamw_state *st, slm_model *m, const slm_adamw_config *cfg, float lr) {
    st->t++;
    for (int i = 0; i < m->layout.n_tensors; i++) {
        const slm_tensor *t = &m->layout.tensors[i];
        size_t off = t->offset, n = (size_t)t->rows * t->cols;
        m->be->ops->adamw(m->params + off, m->grads + off, st->m + off, st->v + off, n, lr, cfg->beta1, cfg->beta2,
                          cfg->eps, t->decay ? cfg->weight_decay : 0.0f, st->t);
    }
}

float slm_lr_at(int step, int warmup, int total_steps, float lr_max, float lr_min) {
    if (step < warmup) return lr_max * (float)(step + 1) / (float)warmup;
    if (total_steps <= warmup) return lr_max;
    double progress = (double)(step - warmup) / (double)(total_steps - warmup);
    if (progress > 1.0) progress = 1.0;
    return lr_min + (float)(0.5 * (1.0 + cos(3.141592653589793 * progress))) * (lr_max - lr_min);
}
