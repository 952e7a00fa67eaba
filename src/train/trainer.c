// trainer.c — the loop of trainer.h. One optimizer step, on every rank:
//   zero grads; for each of grad_accum micro batches: forward (dlogits scaled by
//   1/(B·T·grad_accum), so the gradients are those of this rank's mean loss),
//   backward, and the strategy's communication (the gradients become the mean
//   over ranks); clip the global norm; AdamW at the schedule's learning rate.
// Step time counts exactly that; validation and checkpoints are timed apart.
// Each rank reads its own shard of the data. A failure every rank sees is
// agreed on and reported once; a failure of one rank alone ends the job with
// that rank's message (slm_die, which aborts every rank).
// The warm-up steps (--warmup-steps) are left out of the step-time statistics
// (BENCHMARKS.md), unless the run has no other; rc->min_time_s (benchmarks)
// keeps stepping past --steps until the timed steps add up to it.
#include "train/trainer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/progress.h"
#include "core/rng.h"
#include "data/loader.h"
#include "data/tokfile.h"
#include "model/llama.h"
#include "parallel/comm.h"
#include "parallel/comm_select.h"
#include "parallel/strategy.h"
#include "train/checkpoint.h"
#include "train/optim.h"
#ifdef SLM_HAVE_CUDA
#include "backend/cuda/cuda.h"
#endif

const char *const slm_status_names[3] = {"ok", "oom", "error"};

// Where batches come from: this rank's shard of a token file, or random tokens.
typedef struct {
    int synthetic;
    slm_loader loader;
    uint64_t seed;
    int vocab;
    const char *path;
} batch_source;

enum { VAL_STREAM = -1 };

// Synthetic sequence g of stream `stream` (the step, or VAL_STREAM) is a
// function of (seed, stream, g) alone, so a step's global batch is the same
// set of sequences whatever the world size and micro batch, and a resumed run
// needs no generator state. Sequences g0 … g0+B-1 go into the batch.
static int next_batch(batch_source *s, int *inputs, int *targets, int B, int T, int64_t stream, uint64_t g0,
                      slm_err *err) {
    const int N = B * T;
    if (s->synthetic) {
        for (int b = 0; b < B; b++) {
            slm_rng key = {s->seed ^ ((uint64_t)stream * 0xD1B54A32D192ED03ull)};
            key.state += g0 + (uint64_t)b;
            slm_rng rng = {slm_rng_u64(&key)};
            int prev = (int)(slm_rng_u64(&rng) % (uint64_t)s->vocab);
            for (int t = 0; t < T; t++) {
                int next = (int)(slm_rng_u64(&rng) % (uint64_t)s->vocab);
                inputs[b * T + t] = prev;
                targets[b * T + t] = next;
                prev = next;
            }
        }
        return 0;
    }
    slm_loader_next(&s->loader, inputs, targets);
    for (int i = 0; i < N; i++)
        if (inputs[i] < 0 || targets[i] < 0 || inputs[i] >= s->vocab || targets[i] >= s->vocab)
            return slm_fail(err, "%s holds token %d but the model's vocabulary is %d (tokenize with --vocab %d)",
                            s->path, inputs[i] >= s->vocab ? inputs[i] : targets[i], s->vocab, s->vocab);
    return 0;
}

static double percentile(double *sorted, int n, double q) {
    if (n == 0) return NAN;
    double pos = q * (n - 1);
    int lo = (int)pos;
    int hi = lo + 1 < n ? lo + 1 : lo;
    return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

// A failure of this rank alone: with other ranks it ends the job (they would
// wait for this one in their next collective); alone it returns -1.
static int fail_alone(const slm_comm *c, slm_err *err) {
    if (c->world > 1) slm_die(SLM_EXIT_FAIL, "%s", err->msg);
    return -1;
}

// Mean loss over the validation set: its first eval_batches micro batches
// (sequences 0 … eval_batches·B − 1 of the validation stream, whatever the
// world size), batch i on rank i mod W. Every rank runs the same number of
// forwards (FSDP gathers in each); a rank past the last batch repeats one and
// counts it zero. -1 with err set when the data is bad or the loss not finite.
static int validate(slm_strategy *st, batch_source *val, const slm_run_config *rc, int *inputs, int *targets, int step,
                    double *loss, slm_err *err) {
    slm_comm *c = st->comm;
    const int B = rc->micro_batch, T = rc->seq_len, per_rank = (rc->eval_batches + c->world - 1) / c->world;
    const uint64_t window = (uint64_t)B * T;
    slm_strategy_set_eval(st, 1);
    double sum = 0.0;
    for (int j = 0; j < per_rank; j++) {
        int i = j * c->world + c->rank, counted = i < rc->eval_batches;
        if (!counted) i = 0;
        if (!val->synthetic)  // batch i is the i-th window, wrapping as a sequential reader does
            val->loader.pos = (uint64_t)i % ((val->loader.end - val->loader.begin - 1) / window) * window;
        if (next_batch(val, inputs, targets, B, T, VAL_STREAM, (uint64_t)i * B, err)) return fail_alone(c, err);
        double l = slm_model_forward(st->model, inputs, targets, B, T, 0.0f);
        if (counted) sum += l;
    }
    slm_strategy_set_eval(st, 0);
    c->all_reduce(c, &sum, 1, SLM_F64, SLM_SUM, 0);
    *loss = sum / rc->eval_batches;
    if (!isfinite(*loss))
        return slm_fail(err, "validation loss became %g at step %d (try a lower --lr, or --grad-clip 1)", *loss, step);
    return 0;
}

// Opens the train and validation sources: a token file split at (1 - val_frac),
// or a separate validation file; the training tokens split in one shard per
// rank, the validation tokens read whole by every rank; or synthetic tokens.
static int open_data(const slm_run_config *rc, int rank, slm_tokfile *tf, slm_tokfile *vf, batch_source *train,
                     batch_source *val, slm_err *err) {
    const int B = rc->micro_batch, T = rc->seq_len, W = rc->world_size;
    memset(train, 0, sizeof *train);
    memset(val, 0, sizeof *val);
    train->vocab = val->vocab = rc->model.vocab;
    if (!strcmp(rc->data, "synthetic")) {
        train->synthetic = val->synthetic = 1;
        train->seed = val->seed = rc->seed;
        train->path = val->path = "synthetic";
        return 0;
    }
    if (slm_tokfile_open(tf, rc->data, err)) return -1;
    if (tf->vocab > (uint32_t)rc->model.vocab)
        return slm_fail(err, "%s was tokenized with vocabulary %u but the model's is %d (set --vocab %u)", rc->data,
                        tf->vocab, rc->model.vocab, tf->vocab);
    if (tf->vocab == 0)  // unknown vocabulary: find the largest id once, here
        for (uint64_t i = 0; i < tf->count; i++)
            if (slm_tokfile_get(tf, i) >= (uint32_t)rc->model.vocab)
                return slm_fail(err, "%s holds token %u at %llu but the model's vocabulary is %d", rc->data,
                                slm_tokfile_get(tf, i), (unsigned long long)i, rc->model.vocab);
    uint64_t n_train = tf->count;
    train->path = val->path = rc->data;
    if (rc->val_data) {
        if (slm_tokfile_open(vf, rc->val_data, err)) return -1;
        val->path = rc->val_data;
        if (slm_loader_init(&val->loader, vf, 0, vf->count, 0, 1, B, T, err)) return -1;
    } else {
        n_train = (uint64_t)((double)tf->count * (1.0 - rc->val_frac));
        if (rc->val_frac > 0 && slm_loader_init(&val->loader, tf, n_train, tf->count, 0, 1, B, T, err)) return -1;
    }
    return slm_loader_init(&train->loader, tf, 0, n_train, rank, W, B, T, err);
}

static void json_field(FILE *f, const char *key, double v, const char *fmt) {
    if (isnan(v)) return;
    fprintf(f, ",\"%s\":", key);
    fprintf(f, fmt, v);
}

static void log_step(FILE *log, int step, double loss, double val_loss, float lr, float norm, double dt, double tok_s) {
    if (!log) return;
    fprintf(log, "{\"step\":%d", step);
    json_field(log, "loss", loss, "%.9g");
    json_field(log, "val_loss", val_loss, "%.9g");
    if (step > 0) json_field(log, "lr", lr, "%.9g");
    json_field(log, "grad_norm", norm, "%.9g");
    json_field(log, "step_time_s", dt, "%.6f");
    json_field(log, "tokens_per_s", tok_s, "%.1f");
    fputs("}\n", log);
    fflush(log);
}

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

int slm_train(const slm_run_config *rc, slm_train_result *res, slm_err *err) {
    const int B = rc->micro_batch, T = rc->seq_len, N = B * T, accum = slm_grad_accum(rc);
    memset(res, 0, sizeof *res);
    res->val_loss = res->final_loss = NAN;
    res->step_time_s = res->step_time_p10_s = res->step_time_p90_s = res->tokens_per_s = NAN;
    slm_backend *be;
    slm_comm *comm = slm_comm_open_for_backend(rc->backend, &be, err);
    if (!comm) return fail_alone(slm_comm_run(), err);  // under mpirun: ends the job, no rank left waiting
    const int rank = comm->rank, W = comm->world, lead = rank == 0;
    res->world_size = W;
    res->nodes = comm->nodes;
    be->mem.limit = rc->mem_limit;
    snprintf(res->device, sizeof res->device, "%s", be->device);

    slm_model m = {0};
    slm_strategy st = {0};
    slm_tokfile tf = {0}, vf = {0};
    batch_source train, val;
    int *inputs = slm_xmalloc((size_t)N * sizeof(int)), *targets = slm_xmalloc((size_t)N * sizeof(int));
    int cap_times = rc->steps;
    double *times = slm_xcalloc((size_t)cap_times, sizeof(double));
    double *comm_times = slm_xcalloc((size_t)cap_times, sizeof(double));  // seconds waiting on communication
    FILE *log = NULL;
    int rc_ret = -1;
    slm_err oom;
    slm_progress prog;
    slm_progress_init(&prog, rc->log_every);

    int no_room = slm_strategy_init(&st, &m, &rc->model, be, comm, rc->strategy, rc->overlap, &oom) ||
                  slm_model_alloc_acts(&m, B, T, rc->attention, &oom);
    if (slm_comm_agree(comm, no_room, &oom)) {
        res->status = SLM_STATUS_OOM;
        snprintf(res->message, sizeof res->message, "%s", oom.msg);
        rc_ret = 0;
        goto done;
    }
    slm_strategy_init_weights(&st, rc->seed);
    if (slm_comm_agree(comm, open_data(rc, rank, &tf, &vf, &train, &val, err), err)) goto done;
    int have_val = val.synthetic || val.loader.tf != NULL;

    int start = 0;
    if (rc->resume) {
        slm_ckpt_meta meta;
        int bad = slm_checkpoint_load(rc->resume, &st, &meta, err);
        if (!bad && (meta.seq_len != T || meta.micro_batch != B || meta.global_batch != rc->global_batch))
            bad = slm_fail(err,
                           "%s was written with --seq-len %d --micro-batch %d --global-batch %d; resume with the same",
                           rc->resume, meta.seq_len, meta.micro_batch, meta.global_batch);
        // another world size splits the data in other shards: each rank goes on at the same share of its own
        uint64_t pos = meta.data_pos / N * (uint64_t)meta.data_world / (uint64_t)W * N;
        if (meta.data_world == W) pos = meta.data_pos;
        if (!bad && !train.synthetic && pos > train.loader.end - train.loader.begin)
            bad = slm_fail(err, "%s: its data position %llu lies past this run's training data (%llu tokens per rank)",
                           rc->resume, (unsigned long long)pos,
                           (unsigned long long)(train.loader.end - train.loader.begin));
        if (!bad && meta.step >= (uint64_t)rc->steps)
            bad = slm_fail(err, "%s is at step %d already; ask for more with --steps (got %d)", rc->resume,
                           (int)meta.step, rc->steps);
        if (slm_comm_agree(comm, bad, err)) goto done;
        start = (int)meta.step;
        train.loader.pos = pos;
        if (lead) printf("resumed from %s at step %d\n", rc->resume, start);
        if (lead && !train.synthetic && meta.data_world != W)
            printf(
                "the checkpoint's data was split over %d ranks, this run's over %d: each rank goes on at the same "
                "share of its shard (the order of the tokens differs from a run at one world size)\n",
                meta.data_world, W);
    }
    if (lead && rc->log_file && !(log = fopen(rc->log_file, start ? "a" : "w")))
        slm_fail(err, "cannot write --log-file %s", rc->log_file);
    if (slm_comm_agree(comm, lead && rc->log_file && !log, err)) goto done;

    slm_adamw_config acfg = {rc->lr, rc->beta1, rc->beta2, rc->adam_eps, rc->weight_decay, rc->grad_clip};
    const double tokens_per_step = (double)rc->global_batch * T;
    const float dscale = 1.0f / ((float)N * accum);
    res->first_step = start;
    if (have_val && start == 0) {  // the untrained model's validation loss, the baseline
        double v0;
        if (validate(&st, &val, rc, inputs, targets, 0, &v0, err)) goto done;
        if (lead) printf("step %5d/%d | val %.4f (before training)\n", 0, rc->steps, v0);
        log_step(log, 0, NAN, v0, 0.0f, NAN, NAN, NAN);
    }
    int stop = rc->run_steps && start + rc->run_steps < rc->steps ? start + rc->run_steps : rc->steps;
    double t_begin = slm_now_s(), step_time_sum = 0.0, timed_s = 0.0;
    for (int step = start; step < stop; step++) {
        double t0 = slm_now_s(), wait0 = comm->wait_s;
        slm_strategy_zero_grads(&st);
        double loss = 0.0;
        for (int a = 0; a < accum; a++) {
            uint64_t g0 = ((uint64_t)a * W + rank) * B;  // this rank's sequences of the global batch
            if (next_batch(&train, inputs, targets, B, T, step, g0, err)) {
                fail_alone(comm, err);
                goto done;
            }
            loss += slm_model_forward(&m, inputs, targets, B, T, dscale);
            slm_strategy_begin_backward(&st, a == accum - 1);
            slm_model_backward(&m);
            slm_strategy_end_backward(&st);
        }
        loss /= accum;
        comm->all_reduce(comm, &loss, 1, SLM_F64, SLM_AVG, 0);
        float norm = slm_strategy_clip(&st, rc->grad_clip);
        float lr = slm_lr_at(step, rc->warmup_steps, rc->steps, rc->lr, rc->min_lr);
        slm_strategy_adamw(&st, &acfg, lr);
        be->sync();
        slm_comm_step_end(comm);
        double dt = slm_now_s() - t0;
        int n_done = step - start + 1;
        if (n_done > cap_times) {
            cap_times *= 2;
            times = realloc(times, (size_t)cap_times * sizeof(double));
            comm_times = realloc(comm_times, (size_t)cap_times * sizeof(double));
            if (!times || !comm_times) slm_die(SLM_EXIT_FAIL, "out of host memory for step times");
        }
        times[n_done - 1] = dt;
        comm_times[n_done - 1] = comm->wait_s - wait0;
        step_time_sum += dt;
        if (step >= rc->warmup_steps) timed_s += dt;
        if (step + 1 == stop && stop >= rc->steps && rc->min_time_s > 0) {  // rank 0's clock decides for all
            int more = timed_s < rc->min_time_s;
            comm->broadcast(comm, &more, sizeof more, 0);
            stop += more;
        }
        res->steps_done = n_done;
        res->final_loss = loss;
        res->train_tokens += (long long)tokens_per_step;
        if (!isfinite(loss)) {
            if (lead) slm_progress_break(&prog);
            slm_fail(err, "loss became %g at step %d (try a lower --lr, or --grad-clip 1)", loss, step + 1);
            goto done;
        }

        int last = step + 1 == stop, final = step + 1 == rc->steps;
        double val_loss = NAN;
        if (have_val && (final || (rc->eval_every && (step + 1) % rc->eval_every == 0))) {
            if (validate(&st, &val, rc, inputs, targets, step + 1, &val_loss, err)) goto done;
            res->val_loss = val_loss;
        }
        if (lead) {
            double mean_dt = step_time_sum / n_done;
            char elapsed[32], eta[32];
            slm_format_duration(elapsed, sizeof elapsed, slm_now_s() - t_begin);
            const int total = stop > rc->steps ? stop : rc->steps;
            slm_format_duration(eta, sizeof eta, mean_dt * (total - step - 1));
            char val_text[32] = "";
            if (!isnan(val_loss)) snprintf(val_text, sizeof val_text, " | val %.4f", val_loss);
            slm_progress_update(&prog, last || !isnan(val_loss) || step == start,
                                "step %5d/%d | loss %.4f%s | lr %.2e | %8.0f tok/s | elapsed %s | eta %s", step + 1,
                                total, loss, val_text, lr, tokens_per_step / dt, elapsed, eta);
            if (!isnan(val_loss)) slm_progress_break(&prog);
            log_step(log, step + 1, loss, val_loss, lr, norm, dt, tokens_per_step / dt);
        }

        if (rc->save && (last || (rc->save_every && (step + 1) % rc->save_every == 0))) {
            slm_ckpt_meta meta = {.step = (uint64_t)step + 1,
                                  .rng_state = rc->seed,
                                  .data_pos = train.loader.pos,
                                  .data_world = W,
                                  .seq_len = T,
                                  .micro_batch = B,
                                  .global_batch = rc->global_batch};
            if (slm_checkpoint_save(rc->save, &st, &meta, err)) goto done;  // every rank fails together
        }
    }
    if (lead) slm_progress_break(&prog);
    res->elapsed_s = slm_now_s() - t_begin;
    int untimed = rc->warmup_steps - start < 0 ? 0 : rc->warmup_steps - start;
    if (untimed >= res->steps_done) untimed = 0;
    int n_timed = res->steps_done - untimed;
    double wait_sum = 0.0, time_sum = 0.0;
    for (int i = untimed; i < res->steps_done; i++) {
        wait_sum += comm_times[i];
        time_sum += times[i];
    }
    res->comm_time_frac = time_sum > 0 ? wait_sum / time_sum : 0.0;
    qsort(times + untimed, (size_t)n_timed, sizeof(double), cmp_double);
    double stats[3] = {percentile(times + untimed, n_timed, 0.5), percentile(times + untimed, n_timed, 0.1),
                       percentile(times + untimed, n_timed, 0.9)};
    comm->broadcast(comm, stats, sizeof stats, 0);  // rank 0's clock, the same figures on every rank
    res->step_time_s = stats[0];
    res->step_time_p10_s = stats[1];
    res->step_time_p90_s = stats[2];
    res->tokens_per_s = tokens_per_step / res->step_time_s;
    res->status = SLM_STATUS_OK;
    rc_ret = 0;

done:
    gather_figures(comm, &be->mem, res->comm_time_frac, res);  // every rank comes here together
    if (log) fclose(log);
    if (tf.width) slm_tokfile_close(&tf);
    if (vf.width) slm_tokfile_close(&vf);
    free(inputs);
    free(targets);
    free(times);
    free(comm_times);
    slm_strategy_free(&st);
#ifdef SLM_HAVE_CUDA
    if (!strcmp(be->name, "cuda")) res->device_peak_bytes = slm_cuda_device_peak_bytes();
#endif
    slm_backend_destroy(be);
    return rc_ret;
}
