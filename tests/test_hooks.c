// test_hooks.c — the order in which the graph calls the strategy hooks
// (parameters for the forward and the backward, release, gradients, gradients
// ready) is the order slm_model_replay_hooks replays: FSDP counts the buffers
// a step holds by that replay, so the two must agree call for call. Checked
// for an untied and a tied head, with 1 and 3 blocks.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/llama.h"
#include "testutil.h"

enum { MAX_CALLS = 256 };

typedef struct {
    slm_model *m;
    char calls[MAX_CALLS][16];
    int n;
} recorder;

static void note(recorder *r, const char *what, int unit) {
    if (r->n < MAX_CALLS) snprintf(r->calls[r->n], sizeof r->calls[0], "%s %d", what, unit);
    r->n++;
}
static void *rec_params_fwd(void *ctx, int u) {
    recorder *r = ctx;
    note(r, "fwd", u);
    return r->m->params + r->m->layout.unit_offset[u];  // CPU backend: the compute copy is params
}
static void *rec_params_bwd(void *ctx, int u) {
    recorder *r = ctx;
    note(r, "bwd", u);
    return r->m->params + r->m->layout.unit_offset[u];
}
static void rec_release(void *ctx, int u) { note(ctx, "release", u); }
static float *rec_grads(void *ctx, int u) {
    recorder *r = ctx;
    note(r, "grads", u);
    return r->m->grads + r->m->layout.unit_offset[u];
}
static void rec_ready(void *ctx, int u) { note(ctx, "ready", u); }

static void check(int n_layers, int tied) {
    slm_model_config c;
    slm_preset("tiny", &c, NULL);
    c.n_layers = n_layers;
    c.tie_embeddings = tied;
    slm_backend *be = slm_backend_cpu();
    slm_model m;
    slm_err err;
    if (slm_model_init(&m, &c, be, 1, &err) || slm_model_alloc_acts(&m, 1, 8, SLM_ATTN_VANILLA, &err)) {
        t_check(0, "model init: %s", err.msg);
        return;
    }
    slm_model_init_weights(&m, 1);
    recorder *real = calloc(2, sizeof *real), *replay = real + 1;
    real->m = replay->m = &m;
    int tokens[8] = {1, 2, 3, 4, 5, 6, 7, 8}, targets[8] = {2, 3, 4, 5, 6, 7, 8, 9};
    for (int pass = 0; pass < 2; pass++) {
        recorder *r = pass ? replay : real;
        m.hooks = (slm_unit_hooks){r, rec_params_fwd, rec_params_bwd, rec_release, rec_grads, rec_ready};
        if (pass) {
            slm_model_replay_hooks(&m, 0);
            slm_model_replay_hooks(&m, 1);
        } else {
            slm_model_forward(&m, tokens, targets, 1, 8, 1.0f / 8);
            slm_model_backward(&m);
        }
    }
    int same = real->n == replay->n && real->n <= MAX_CALLS;
    int first_diff = -1;
    for (int i = 0; same && i < real->n; i++)
        if (strcmp(real->calls[i], replay->calls[i])) same = 0, first_diff = i;
    t_check(same, "%d block(s), %s head: forward + backward make %d hook calls, the replay %d%s%s%s", n_layers,
            tied ? "tied" : "untied", real->n, replay->n, first_diff >= 0 ? "; first difference: " : "",
            first_diff >= 0 ? real->calls[first_diff] : "", first_diff >= 0 ? " vs replay" : "");
    free(real);
    slm_model_free(&m);
    slm_backend_destroy(be);
}

int main(void) {
    for (int tied = 0; tied < 2; tied++) {
        check(1, tied);
        check(3, tied);
    }
    return t_finish("test_hooks");
}
