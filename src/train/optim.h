// optim.h — the one optimizer path of every run, test and benchmark: global
// gradient-norm clipping and AdamW over the slices of the parameters this
// rank owns (slm_owned: the strategy says which, strategy.h), and the
// learning-rate schedule (linear warmup, cosine decay).
// The optimizer owns the AdamW moments, one pair of fp32 per owned float,
// allocated through the tracker as `optimizer`. AdamW writes the fp32 master
// and, where the compute dtype is not fp32, its compute copy beside it.
// Weight decay applies to matrices only (slm_tensor.decay), not to norms.
#pragma once
#include "model/llama.h"
#include "parallel/strategy.h"

typedef struct {
    float lr, beta1, beta2, eps, weight_decay, grad_clip;
} slm_adamw_config;

typedef struct {
    const slm_model *model;  // the layout's tensors and the backend
    slm_owned own;           // what this rank updates
    slm_adamw_config cfg;
    float *m, *v;  // first and second moments [own.n], laid out as own.p
    int t;         // optimizer steps taken
} slm_optimizer;

// Moments for what `own` holds of model m's parameters. -1 with err set on OOM.
int slm_optimizer_init(slm_optimizer *o, const slm_model *m, const slm_owned *own, const slm_adamw_config *cfg,
                       slm_err *err);
// The same for what strategy st owns (slm_strategy_owned), on its model.
int slm_optimizer_init_for(slm_optimizer *o, const slm_strategy *st, const slm_adamw_config *cfg, slm_err *err);
void slm_optimizer_free(slm_optimizer *o);
// The global L2 norm of the gradients (summed over own.norm_comm's ranks when
// set); when above cfg.grad_clip (> 0) the gradients are scaled by
// grad_clip / (norm + 1e-6), as torch.nn.utils.clip_grad_norm_. Returns the
// norm before clipping. Collective when own.norm_comm is set.
float slm_optimizer_clip(slm_optimizer *o);
// One AdamW step at learning rate lr (the schedule's value), tensor by tensor
// of every owned slice.
void slm_optimizer_step(slm_optimizer *o, float lr);

// Linear warmup from 0 over warmup steps, then cosine from lr_max to lr_min at
// total_steps. step counts from 0.
float slm_lr_at(int step, int warmup, int total_steps, float lr_max, float lr_min);
