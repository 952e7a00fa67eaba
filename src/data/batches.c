// batches.c — the batch sources of a run (batches.h).
#include "data/batches.h"

#include <string.h>

#include "core/rng.h"

int slm_batch_next(slm_batch_source *s, int *inputs, int *targets, int B, int T, int64_t stream, uint64_t g0,
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

int slm_batch_nth(slm_batch_source *s, int *inputs, int *targets, int B, int T, int64_t stream, uint64_t i,
                  slm_err *err) {
    const uint64_t window = (uint64_t)B * T;
    if (!s->synthetic)  // the i-th window, wrapping as a sequential reader does
        s->loader.pos = i % ((s->loader.end - s->loader.begin - 1) / window) * window;
    return slm_batch_next(s, inputs, targets, B, T, stream, i * B, err);
}

// Tokens of a file whose header gives no vocabulary: the largest id must fit.
static int check_ids(const slm_tokfile *tf, const char *path, int vocab, slm_err *err) {
    for (uint64_t i = 0; i < tf->count; i++)
        if (slm_tokfile_get(tf, i) >= (uint32_t)vocab)
            return slm_fail(err, "%s holds token %u at %llu but the model's vocabulary is %d", path,
                            slm_tokfile_get(tf, i), (unsigned long long)i, vocab);
    return 0;
}

int slm_run_data_open(slm_run_data *d, const slm_run_config *rc, int rank, slm_err *err) {
    const int B = rc->micro_batch, T = rc->seq_len, W = rc->world_size;
    memset(d, 0, sizeof *d);
    slm_batch_source *train = &d->train, *val = &d->val;
    train->vocab = val->vocab = rc->model.vocab;
    if (!strcmp(rc->data, "synthetic")) {
        train->synthetic = val->synthetic = 1;
        train->seed = val->seed = rc->seed;
        train->path = val->path = "synthetic";
        return 0;
    }
    slm_tokfile *tf = &d->tf;
    if (slm_tokfile_open(tf, rc->data, err)) return -1;
    if (tf->vocab > (uint32_t)rc->model.vocab)
        return slm_fail(err, "%s was tokenized with vocabulary %u but the model's is %d (set --vocab %u)", rc->data,
                        tf->vocab, rc->model.vocab, tf->vocab);
    if (tf->vocab == 0 && check_ids(tf, rc->data, rc->model.vocab, err)) return -1;
    uint64_t n_train = tf->count;
    train->path = val->path = rc->data;
    if (rc->val_data) {
        if (slm_tokfile_open(&d->vf, rc->val_data, err)) return -1;
        val->path = rc->val_data;
        if (slm_loader_init(&val->loader, &d->vf, 0, d->vf.count, 0, 1, B, T, err)) return -1;
    } else {
        n_train = (uint64_t)((double)tf->count * (1.0 - rc->val_frac));
        if (rc->val_frac > 0 && slm_loader_init(&val->loader, tf, n_train, tf->count, 0, 1, B, T, err)) return -1;
    }
    return slm_loader_init(&train->loader, tf, 0, n_train, rank, W, B, T, err);
}

void slm_run_data_close(slm_run_data *d) {
    if (d->tf.width) slm_tokfile_close(&d->tf);
    if (d->vf.width) slm_tokfile_close(&d->vf);
}

int slm_run_data_has_val(const slm_run_data *d) { return d->val.synthetic || d->val.loader.tf != NULL; }
