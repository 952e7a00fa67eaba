// checkpointer.c — saving and resuming a training run (checkpointer.h).
#include "train/checkpointer.h"

#include <stdio.h>

#include "train/checkpoint.h"
#include "train/checkpoint_leftovers.h"

void slm_checkpointer_init(slm_checkpointer *c, const slm_run_config *rc, slm_strategy *st, slm_optimizer *opt,
                           slm_batch_source *train) {
    *c = (slm_checkpointer){.rc = rc, .st = st, .opt = opt, .train = train};
}

// The train reader's position for this run from the checkpoint's: another
// world size splits the data in other shards, so each rank goes on at the
// same share of its own.
static uint64_t data_pos_for(const slm_ckpt_meta *meta, int W, uint64_t N) {
    if (meta->data_world == W) return meta->data_pos;
    return meta->data_pos / N * (uint64_t)meta->data_world / (uint64_t)W * N;
}

// Whether the checkpoint's batch shape, data position and step fit this run.
static int check_fits(const slm_checkpointer *c, const slm_ckpt_meta *meta, uint64_t pos, slm_err *err) {
    const slm_run_config *rc = c->rc;
    const slm_loader *ld = &c->train->loader;
    if (meta->seq_len != rc->seq_len || meta->micro_batch != rc->micro_batch || meta->global_batch != rc->global_batch)
        return slm_fail(err,
                        "%s was written with --seq-len %d --micro-batch %d --global-batch %d; resume with the same",
                        rc->resume, meta->seq_len, meta->micro_batch, meta->global_batch);
    if (!c->train->synthetic && pos > ld->end - ld->begin)
        return slm_fail(err, "%s: its data position %llu lies past this run's training data (%llu tokens per rank)",
                        rc->resume, (unsigned long long)pos, (unsigned long long)(ld->end - ld->begin));
    if (meta->step >= (uint64_t)rc->steps)
        return slm_fail(err, "%s is at step %d already; ask for more with --steps (got %d)", rc->resume,
                        (int)meta->step, rc->steps);
    return 0;
}

int slm_checkpointer_resume(slm_checkpointer *c, int *start, slm_err *err) {
    const slm_run_config *rc = c->rc;
    slm_comm *comm = c->st->comm;
    const int W = comm->world;
    *start = 0;
    if (!rc->resume) return 0;
    slm_ckpt_meta meta;
    const uint64_t N = (uint64_t)rc->micro_batch * rc->seq_len;
    int bad = slm_checkpoint_load(rc->resume, c->st, c->opt, &meta, err);
    uint64_t pos = bad ? 0 : data_pos_for(&meta, W, N);
    if (!bad) bad = check_fits(c, &meta, pos, err);
    if (slm_comm_agree(comm, bad, err)) return -1;
    *start = (int)meta.step;
    c->train->loader.pos = pos;
    if (comm->rank != 0) return 0;
    printf("resumed from %s at step %d\n", rc->resume, *start);
    if (!c->train->synthetic && meta.data_world != W)
        printf(
            "the checkpoint's data was split over %d ranks, this run's over %d: each rank goes on at the same "
            "share of its shard (the order of the tokens differs from a run at one world size)\n",
            meta.data_world, W);
    return 0;
}

void slm_checkpointer_tidy(const slm_checkpointer *c) {
    if (c->rc->save && c->st->comm->rank == 0) slm_ckpt_remove_leftovers(c->rc->save, stdout);
}

int slm_checkpointer_due(const slm_checkpointer *c, int step, int last) {
    return c->rc->save && (last || (c->rc->save_every && step % c->rc->save_every == 0));
}

int slm_checkpointer_save(slm_checkpointer *c, int step, slm_err *err) {
    const slm_run_config *rc = c->rc;
    slm_ckpt_meta meta = {.step = (uint64_t)step,
                          .rng_state = rc->seed,
                          .data_pos = c->train->loader.pos,
                          .data_world = c->st->comm->world,
                          .seq_len = rc->seq_len,
                          .micro_batch = rc->micro_batch,
                          .global_batch = rc->global_batch};
    return slm_checkpoint_save(rc->save, c->st, c->opt, &meta, err);
}
