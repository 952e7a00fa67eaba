#include "core/run_config.h"

#include <limits.h>
#include <string.h>

const char *const slm_strategy_names[4] = {"single", "ddp", "fsdp-full", "fsdp-grad-op"};

void slm_run_config_defaults(slm_run_config *rc) {
    memset(rc, 0, sizeof *rc);
    slm_preset("small", &rc->model, NULL);
    rc->seq_len = rc->model.seq_len;
    rc->micro_batch = 8;
    rc->global_batch = 8;
    rc->world_size = 1;
    rc->attention = SLM_ATTN_VANILLA;
    rc->strategy = SLM_STRATEGY_SINGLE;
    rc->overlap = 1;
    rc->dtype = SLM_F32;
    rc->backend = SLM_BACKEND_CPU;
    rc->steps = 100;
    rc->warmup_steps = -1;  // 10% of steps
    rc->data = "synthetic";
    rc->val_frac = 0.1f;
    rc->seed = 1337;
    rc->lr = 1e-3f;
    rc->min_lr = -1;  // lr / 10
    rc->weight_decay = 0.1f;
    rc->beta1 = 0.9f;
    rc->beta2 = 0.95f;
    rc->adam_eps = 1e-8f;
    rc->grad_clip = 1.0f;
    rc->eval_every = 50;
    rc->eval_batches = 8;
    rc->log_every = 10;
}

int slm_grad_accum_of(int global_batch, int micro_batch, int world_size) {
    const int64_t per_micro = (int64_t)micro_batch * world_size;
    if (per_micro < 1 || global_batch % per_micro) return 0;
    return (int)(global_batch / per_micro);
}

int slm_global_batch_of(int micro_batch, int world_size, int *out, slm_err *err) {
    const int64_t g = (int64_t)micro_batch * world_size;
    if (g > INT_MAX)
        return slm_fail(err, "--micro-batch %d x world size %d is %lld sequences per step, past the %d a run can hold",
                        micro_batch, world_size, (long long)g, INT_MAX);
    *out = (int)g;
    return 0;
}

int slm_run_config_validate(const slm_run_config *rc, slm_err *err) {
    if (slm_model_config_validate(&rc->model, err)) return -1;
    if (rc->seq_len < 1) return slm_fail(err, "--seq-len must be positive (got %d)", rc->seq_len);
    if (rc->seq_len > rc->model.seq_len)
        return slm_fail(err, "--seq-len %d is longer than the model's maximum %d (raise it with the model's seq_len)",
                        rc->seq_len, rc->model.seq_len);
    if (rc->micro_batch < 1) return slm_fail(err, "--micro-batch must be positive (got %d)", rc->micro_batch);
    if (rc->global_batch < 1) return slm_fail(err, "--global-batch must be positive (got %d)", rc->global_batch);
    if (rc->world_size < 1) return slm_fail(err, "world size must be positive (got %d)", rc->world_size);
    if ((int64_t)rc->micro_batch * rc->seq_len > (1 << 30) ||
        (int64_t)rc->global_batch * rc->seq_len > ((int64_t)1 << 40))
        return slm_fail(err, "--micro-batch %d x --seq-len %d is too many tokens for one micro step", rc->micro_batch,
                        rc->seq_len);
    if (!slm_grad_accum(rc))
        return slm_fail(err,
                        "--global-batch %d must be a multiple of --micro-batch %d x world size %d (gradient "
                        "accumulation takes whole micro batches)",
                        rc->global_batch, rc->micro_batch, rc->world_size);
    if (rc->strategy == SLM_STRATEGY_SINGLE && rc->world_size > 1)
        return slm_fail(err,
                        "--strategy single runs one process, but this job has %d ranks (use --strategy ddp, fsdp-full "
                        "or fsdp-grad-op)",
                        rc->world_size);
    if (rc->steps < 1) return slm_fail(err, "--steps must be positive (got %d)", rc->steps);
    if (rc->warmup_steps > rc->steps)
        return slm_fail(err, "--warmup-steps %d exceeds --steps %d", rc->warmup_steps, rc->steps);
    if (!(rc->lr > 0)) return slm_fail(err, "--lr must be positive (got %g)", rc->lr);
    if (rc->min_lr > rc->lr) return slm_fail(err, "--min-lr %g exceeds --lr %g", rc->min_lr, rc->lr);
    if (rc->weight_decay < 0) return slm_fail(err, "--weight-decay must be >= 0 (got %g)", rc->weight_decay);
    if (!(rc->adam_eps > 0)) return slm_fail(err, "--adam-eps must be positive (got %g)", rc->adam_eps);
    if (!(rc->beta1 >= 0 && rc->beta1 < 1 && rc->beta2 >= 0 && rc->beta2 < 1))
        return slm_fail(err, "Adam betas must be in [0, 1) (got %g, %g)", rc->beta1, rc->beta2);
    if (rc->grad_clip < 0) return slm_fail(err, "--grad-clip must be >= 0 (0 = off; got %g)", rc->grad_clip);
    if (!(rc->val_frac >= 0 && rc->val_frac < 1))
        return slm_fail(err, "--val-frac must be in [0, 1) (got %g)", rc->val_frac);
    if (rc->run_steps && !rc->save)
        return slm_fail(err, "--run-steps needs --save: the checkpoint is how the next process goes on");
    if (rc->run_steps < 0 || rc->eval_every < 0 || rc->eval_batches < 1 || rc->log_every < 1 || rc->save_every < 0)
        return slm_fail(err,
                        "--eval-every, --save-every, --run-steps must be >= 0 and --eval-batches, --log-every >= 1");
    return 0;
}
