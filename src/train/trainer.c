// trainer.c — a training run (trainer.h), in the shape of torchtitan's
// train() → train_step() → forward_backward_step(). One optimizer step, on
// every rank:
//   zero grads; for each of grad_accum micro batches: forward (dlogits scaled
//   by 1/(B·T·grad_accum), so the gradients are those of this rank's mean
//   loss), backward, and the strategy's communication through its hooks (the
//   gradients become the mean over ranks); the loss averaged over ranks; clip
//   the global norm; AdamW at the schedule's learning rate.
// Step time counts exactly that; validation and checkpoints are timed apart.
// A failure every rank sees is agreed on and reported once; a failure of one
// rank alone ends the job with that rank's message (slm_comm_fail_alone).
// rc->min_time_s (benchmarks) keeps stepping past --steps until the timed
// steps add up to it.
#include "train/trainer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "data/batches.h"
#include "model/llama.h"
#include "parallel/comm.h"
#include "parallel/comm_select.h"
#include "parallel/strategy.h"
#include "train/checkpointer.h"
#include "train/init_from.h"
#include "train/optim.h"
#include "train/step_times.h"
#include "train/train_log.h"
#include "train/validator.h"

const char *const slm_status_names[3] = {"ok", "oom", "error"};

typedef struct {
    const slm_run_config *rc;
    slm_backend *be;
    slm_comm *comm;
    slm_model model;
    slm_strategy st;
    slm_optimizer opt;
    slm_run_data data;
    slm_validator val;
    slm_checkpointer ckpt;
    slm_train_log log;
    slm_step_times times;
    int *inputs, *targets;  // [B·T] host tokens of one micro batch
    int accum;              // micro steps per optimizer step
    float dscale;           // 1 / (B·T·accum): this rank's mean loss
    int start, stop;        // the first step of this process and the step it stops at
} trainer;

// The figures every rank contributes: its peak memory (total, the split at
// it, each category's own peak) and its share of step time in communication.
enum { RANK_FIGS = 2 + 2 * SLM_MEM_NCAT };

static void gather_figures(slm_comm *c, const slm_mem_tracker *mine, double comm_frac, slm_train_result *res) {
    double *all = slm_xcalloc((size_t)c->world * RANK_FIGS, sizeof(double)), f[RANK_FIGS];
    f[0] = (double)mine->peak_total;
    f[1] = comm_frac;
    for (int k = 0; k < SLM_MEM_NCAT; k++) {
        f[2 + k] = (double)mine->at_peak[k];
        f[2 + SLM_MEM_NCAT + k] = (double)mine->peak[k];
    }
    c->all_gather(c, all, f, RANK_FIGS, SLM_F64, 0);
    int top = 0;
    double frac_sum = 0.0;
    for (int r = 0; r < c->world; r++) {
        const double *x = all + (size_t)r * RANK_FIGS;
        if (x[0] > all[(size_t)top * RANK_FIGS]) top = r;
        frac_sum += x[1];
        if (r < SLM_RANKS_SHOWN) {
            res->rank_peak[r][0] = (size_t)x[0];
            for (int k = 0; k < SLM_MEM_NCAT; k++) res->rank_peak[r][1 + k] = (size_t)x[2 + k];
        }
    }
    res->ranks_shown = c->world < SLM_RANKS_SHOWN ? c->world : SLM_RANKS_SHOWN;
    res->comm_time_frac = frac_sum / c->world;
    const double *x = all + (size_t)top * RANK_FIGS;
    memset(&res->mem, 0, sizeof res->mem);
    res->mem.peak_total = (size_t)x[0];
    for (int k = 0; k < SLM_MEM_NCAT; k++) {
        res->mem.at_peak[k] = (size_t)x[2 + k];
        res->mem.peak[k] = (size_t)x[2 + SLM_MEM_NCAT + k];
    }
    res->mem.limit = mine->limit;
    res->mem.capacity = mine->capacity;
    free(all);
}

// Micro step `micro` of optimizer step `step`: this rank's sequences of the
// global batch, forward and backward; the loss added to *loss.
static int forward_backward_step(trainer *t, int step, int micro, double *loss, slm_err *err) {
    const int B = t->rc->micro_batch, T = t->rc->seq_len;
    const uint64_t g0 = ((uint64_t)micro * t->comm->world + t->comm->rank) * B;
    if (slm_batch_next(&t->data.train, t->inputs, t->targets, B, T, step, g0, err))
        return slm_comm_fail_alone(t->comm, err);
    *loss += slm_model_forward(&t->model, t->inputs, t->targets, B, T, t->dscale);
    slm_strategy_begin_backward(&t->st, micro == t->accum - 1);
    slm_model_backward(&t->model);
    slm_strategy_end_backward(&t->st);
    return 0;
}

// One optimizer step (step counts from 0), timed; what it did into *s.
static int train_step(trainer *t, int step, slm_step_report *s, slm_err *err) {
    const slm_run_config *rc = t->rc;
    const double t0 = slm_now_s(), wait0 = t->comm->wait_s;
    slm_strategy_zero_grads(&t->st);
    double loss = 0.0;
    for (int micro = 0; micro < t->accum; micro++)
        if (forward_backward_step(t, step, micro, &loss, err)) return -1;
    loss /= t->accum;
    t->comm->all_reduce(t->comm, &loss, 1, SLM_F64, SLM_AVG, 0);
    const float norm = slm_optimizer_clip(&t->opt);
    const float lr = slm_lr_at(step, rc->warmup_steps, rc->steps, rc->lr, rc->min_lr);
    slm_optimizer_step(&t->opt, lr);
    t->be->sync();
    t->comm->step_end(t->comm);
    *s = (slm_step_report){.step = step + 1,
                           .loss = loss,
                           .val_loss = NAN,
                           .lr = lr,
                           .grad_norm = norm,
                           .time_s = slm_now_s() - t0,
                           .wait_s = t->comm->wait_s - wait0};
    return 0;
}

// Benchmarks: one step more past --steps while the timed steps add up to less
// than rc->min_time_s. Rank 0's clock decides for all.
static int more_steps(trainer *t, int step) {
    const slm_run_config *rc = t->rc;
    if (step + 1 != t->stop || t->stop < rc->steps || rc->min_time_s <= 0) return 0;
    int more = t->times.timed_s < rc->min_time_s;
    t->comm->broadcast(t->comm, &more, sizeof more, 0);
    return more;
}

// The step-time statistics into res: rank 0's clock, the same figures on every rank.
static void step_statistics(trainer *t, slm_train_result *res) {
    slm_step_stats s;
    slm_step_times_stats(&t->times, &s);
    res->comm_time_frac = s.comm_frac;
    double stats[3] = {s.median_s, s.p10_s, s.p90_s};
    t->comm->broadcast(t->comm, stats, sizeof stats, 0);
    res->step_time_s = stats[0];
    res->step_time_p10_s = stats[1];
    res->step_time_p90_s = stats[2];
    res->tokens_per_s = (double)t->rc->global_batch * t->rc->seq_len / res->step_time_s;
    res->status = SLM_STATUS_OK;
}

static int train_loop(trainer *t, slm_train_result *res, slm_err *err) {
    const slm_run_config *rc = t->rc;
    const long long tokens_per_step = (long long)rc->global_batch * rc->seq_len;
    if (t->start == 0 && t->val.src) {  // the untrained model's validation loss, the baseline
        double v0;
        if (slm_validator_run(&t->val, 0, &v0, err)) return -1;
        if (slm_train_log_baseline(&t->log, v0, err)) return slm_comm_fail_alone(t->comm, err);
    }
    const double t_begin = slm_now_s();
    for (int step = t->start; step < t->stop; step++) {
        slm_step_report s;
        if (train_step(t, step, &s, err)) return -1;
        slm_step_times_add(&t->times, step, s.time_s, s.wait_s);
        t->stop += more_steps(t, step);
        res->steps_done = s.step - t->start;
        res->final_loss = s.loss;
        res->train_tokens += tokens_per_step;
        if (!isfinite(s.loss)) {
            slm_train_log_break(&t->log);
            return slm_fail(err, "loss became %g at step %d (try a lower --lr, or --grad-clip 1)", s.loss, s.step);
        }
        const int last = s.step == t->stop;
        if (slm_validator_due(&t->val, s.step) && slm_validator_run(&t->val, s.step, &s.val_loss, err)) return -1;
        if (!isnan(s.val_loss)) res->val_loss = s.val_loss;
        if (slm_train_log_step(&t->log, &s, t->stop > rc->steps ? t->stop : rc->steps, last || step == t->start,
                               slm_step_times_mean_s(&t->times), slm_now_s() - t_begin, err))
            return slm_comm_fail_alone(t->comm, err);
        if (slm_checkpointer_due(&t->ckpt, s.step, last) && slm_checkpointer_save(&t->ckpt, s.step, err)) return -1;
    }
    slm_train_log_break(&t->log);
    if (slm_train_log_close(&t->log, err)) return slm_comm_fail_alone(t->comm, err);
    res->elapsed_s = slm_now_s() - t_begin;
    step_statistics(t, res);
    return 0;
}

// The strategy's model and storage, the optimizer over what this rank owns,
// the activations: -1 with err set when they do not fit.
static int alloc_state(trainer *t, slm_err *err) {
    const slm_run_config *rc = t->rc;
    const slm_adamw_config acfg = {rc->lr, rc->beta1, rc->beta2, rc->adam_eps, rc->weight_decay, rc->grad_clip};
    if (slm_strategy_init(&t->st, &t->model, &rc->model, t->be, t->comm, rc->strategy, rc->overlap, err) ||
        slm_optimizer_init_for(&t->opt, &t->st, &acfg, err))
        return -1;
    return slm_model_alloc_acts(&t->model, rc->micro_batch, rc->seq_len, rc->attention, err);
}

// After the backend and communicator: the state, the weights (the seed's, or
// --init-from's), the data, the resume and the log. 1 when the run ends here as an out-of-memory result
// (res says so); -1 with err set on a failure.
static int trainer_open(trainer *t, slm_train_result *res, slm_err *err) {
    const slm_run_config *rc = t->rc;
    const int N = rc->micro_batch * rc->seq_len;
    res->world_size = t->comm->world;
    res->nodes = t->comm->nodes;
    t->be->mem.limit = rc->mem_limit;
    snprintf(res->device, sizeof res->device, "%s", t->be->device);
    t->inputs = slm_xmalloc((size_t)N * sizeof(int));
    t->targets = slm_xmalloc((size_t)N * sizeof(int));
    t->accum = slm_grad_accum(rc);
    t->dscale = 1.0f / ((float)N * t->accum);
    slm_err oom;
    if (slm_comm_agree(t->comm, alloc_state(t, &oom), &oom)) {
        res->status = SLM_STATUS_OOM;
        snprintf(res->message, sizeof res->message, "%s", oom.msg);
        return 1;
    }
    if (!rc->init_from)
        slm_strategy_init_weights(&t->st, rc->seed);
    else if (slm_comm_agree(t->comm, slm_source_load(rc->init_from, &t->st, err), err))
        return -1;
    if (slm_comm_agree(t->comm, slm_run_data_open(&t->data, rc, t->comm->rank, err), err)) return -1;
    slm_batch_source *val = slm_run_data_has_val(&t->data) ? &t->data.val : NULL;
    slm_validator_init(&t->val, &t->st, val, rc, t->inputs, t->targets);
    slm_checkpointer_init(&t->ckpt, rc, &t->st, &t->opt, &t->data.train);
    slm_checkpointer_tidy(&t->ckpt);
    if (slm_checkpointer_resume(&t->ckpt, &t->start, err)) return -1;
    t->stop = rc->run_steps && t->start + rc->run_steps < rc->steps ? t->start + rc->run_steps : rc->steps;
    slm_step_times_init(&t->times, rc->steps, rc->warmup_steps, t->start);
    if (slm_comm_agree(t->comm, slm_train_log_open(&t->log, rc, t->comm->rank == 0, t->start, err), err)) return -1;
    res->first_step = t->start;
    return 0;
}

// Every rank comes here together, whatever happened.
static void trainer_close(trainer *t, slm_train_result *res) {
    gather_figures(t->comm, &t->be->mem, res->comm_time_frac, res);
    slm_train_log_close(&t->log, NULL);  // after a failure (closed already after a run that ended well)
    slm_run_data_close(&t->data);
    slm_step_times_free(&t->times);
    free(t->inputs);
    free(t->targets);
    slm_optimizer_free(&t->opt);
    slm_strategy_free(&t->st);
    res->device_peak_bytes = t->be->device_peak_bytes();
    slm_backend_destroy(t->be);
}

int slm_train_for_result(const slm_run_config *rc, slm_train_result *res) {
    slm_err err;
    if (slm_train(rc, res, &err)) {
        res->status = SLM_STATUS_ERROR;
        snprintf(res->message, sizeof res->message, "%s", err.msg);
    }
    return slm_comm_run()->rank == 0;
}

int slm_train(const slm_run_config *rc, slm_train_result *res, slm_err *err) {
    memset(res, 0, sizeof *res);
    res->val_loss = res->final_loss = NAN;
    res->step_time_s = res->step_time_p10_s = res->step_time_p90_s = res->tokens_per_s = NAN;
    trainer t = {.rc = rc};
    t.comm = slm_comm_open_for_backend(rc->backend, rc->dtype, &t.be, err);
    if (!t.comm) return slm_comm_fail_alone(slm_comm_run(), err);  // under mpirun: ends the job, no rank left waiting
    int ret = trainer_open(&t, res, err);
    if (ret == 0) ret = train_loop(&t, res, err);
    trainer_close(&t, res);
    return ret < 0 ? -1 : 0;
}
