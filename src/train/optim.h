// optim.h — AdamW over the model's flat buffers (the fp32 master, and its
// compute copy rewritten by the same op), global gradient-norm clipping, and
// the learning-rate schedule (linear warmup, cosine decay).
// Weight decay applies to matrices only (slm_tensor.decay), not to norms.
#pragma once
#include "model/llama.h"

typedef struct {
    float lr, beta1, beta2, eps, weight_decay, grad_clip;
} slm_adamw_config;

typedef struct {
    float *m, *v;  // first and second moments, the flat layout
    int t;         // optimizer steps taken
} slm_adamw_state;

int slm_adamw_init(slm_adamw_state *st, slm_model *m, slm_err *err);
void slm_adamw_free(slm_adamw_state *st, slm_model *m);
// Global L2 norm of the gradients; when above max_norm (> 0) scales them by
// max_norm / (norm + 1e-6), as torch.nn.utils.clip_grad_norm_. Returns the norm before clipping.
float slm_clip_grad_norm(slm_model *m, float max_norm);
// The same for gradients g [n] whose squared norm over every rank is sumsq.
float slm_clip_scaled(const slm_ops *op, float *g, size_t n, double sumsq, float max_norm);
// One step at learning rate lr (the schedule's value), tensor by tensor.
void slm_adamw_step(slm_adamw_state *st, slm_model *m, const slm_adamw_config *cfg, float lr);
// AdamW (step t) on the elements [begin, begin + n) of the flat layout, held at
// p, g, mom, v: each tensor's part with its own weight decay, padding untouched.
// When p_compute is not NULL (the compute copy of p, in the backend's compute
// dtype), the updated parameters are written there too.
void slm_adamw_slice(const slm_model *m, size_t begin, size_t n, float *p, const float *g, float *mom, float *v,
                     void *p_compute, int t, const slm_adamw_config *cfg, float lr);

// Linear warmup from 0 over warmup steps, then cosine from lr_max to lr_min at
// total_steps. step counts from 0.
float slm_lr_at(int step, int warmup, int total_steps, float lr_max, float lr_min);
