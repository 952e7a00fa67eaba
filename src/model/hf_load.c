// hf_load.c — a checkpoint's weights against the model (hf_weights.h): every
// tensor of the layout present with its shape, nothing else in the files,
// then unit after unit widened to fp32 into the flat layout.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hf_config.h"
#include "core/path.h"
#include "model/hf_weights.h"

static void shape_text(char *out, size_t len, int ndim, const int64_t *shape) {
    int n = snprintf(out, len, "[");
    for (int i = 0; i < ndim && n > 0 && (size_t)n < len; i++)
        n += snprintf(out + n, len - (size_t)n, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (n > 0 && (size_t)n < len) snprintf(out + n, len - (size_t)n, "]");
}

static int check_shape(const slm_st_file *f, const slm_st_tensor *st, const slm_tensor *t, const char *model,
                       slm_err *err) {
    const int64_t want[2] = {t->rows, t->cols};
    int same = st->ndim == t->ndim;
    for (int i = 0; i < t->ndim && same; i++) same = st->shape[i] == want[i];
    if (same) return 0;
    char got_s[128], want_s[64];
    shape_text(got_s, sizeof got_s, st->ndim, st->shape);
    shape_text(want_s, sizeof want_s, t->ndim, want);
    return slm_fail(err, "%s: tensor '%s' has shape %s, %s has %s", f->path, t->name, got_s, model, want_s);
}

// lm_head.weight in the files of a model that ties it: allowed when it is the embedding, value for value.
static int same_as_embedding(const slm_hf_weights *w, const slm_st_tensor *head) {
    const slm_st_tensor *emb = slm_hf_weights_find(w, "model.embed_tokens.weight", NULL);
    if (!emb || emb->ndim != head->ndim || slm_st_numel(emb) != slm_st_numel(head)) return 0;
    const size_t n = slm_st_numel(emb);
    float *a = slm_xmalloc(n * sizeof(float) + 1), *b = slm_xmalloc(n * sizeof(float) + 1);
    slm_st_to_f32(emb, a);
    slm_st_to_f32(head, b);
    int same = !memcmp(a, b, n * sizeof(float));
    free(a);
    free(b);
    return same;
}

static int check_unexpected(const slm_hf_weights *w, const slm_param_layout *lay, const char *model, slm_err *err) {
    for (int i = 0; i < w->n_files; i++)
        for (int k = 0; k < w->files[i].n; k++) {
            const slm_st_tensor *st = &w->files[i].t[k];
            if (slm_param_find(lay, st->name) || slm_ends_with(st->name, ".rotary_emb.inv_freq")) continue;
            if (!strcmp(st->name, "lm_head.weight") && slm_param_find(lay, "model.embed_tokens.weight")) {
                if (same_as_embedding(w, st)) continue;
                return slm_fail(err,
                                "%s: tensor 'lm_head.weight' differs from model.embed_tokens.weight, but %s ties them "
                                "(tie_word_embeddings)",
                                w->files[i].path, model);
            }
            return slm_fail(err, "%s: unexpected tensor '%s': %s has no such tensor", w->files[i].path, st->name,
                            model);
        }
    return 0;
}

int slm_hf_weights_check(const slm_hf_weights *w, const slm_param_layout *lay, const char *model, slm_err *err) {
    for (int i = 0; i < lay->n_tensors; i++) {
        const slm_tensor *t = &lay->tensors[i];
        const slm_st_file *f = NULL;
        const slm_st_tensor *st = slm_hf_weights_find(w, t->name, &f);
        if (!st) return slm_fail(err, "%s: tensor '%s' is missing, and %s has it", w->where, t->name, model);
        if (check_shape(f, st, t, model, err)) return -1;
    }
    return check_unexpected(w, lay, model, err);
}

int slm_hf_weights_open_for(slm_hf_weights *w, const char *path, const slm_param_layout *lay, const char *model,
                            slm_err *err) {
    if (slm_hf_weights_open(w, path, err)) return -1;
    if (!slm_hf_weights_check(w, lay, model, err)) return 0;
    slm_hf_weights_close(w);
    return -1;
}

// Unit u's floats (padding zero) into host.
static void fill_unit(const slm_hf_weights *w, const slm_param_layout *lay, int u, float *host) {
    const size_t begin = lay->unit_offset[u], end = begin + lay->unit_size[u];
    memset(host, 0, lay->unit_size[u] * sizeof(float));
    for (int i = 0; i < lay->n_tensors; i++) {
        const slm_tensor *t = &lay->tensors[i];
        if (t->offset < begin || t->offset >= end) continue;
        const slm_st_tensor *st = slm_hf_weights_find(w, t->name, NULL);
        SLM_ASSERT(st, "tensor %s not in checked weights", t->name);
        slm_st_to_f32(st, host + (t->offset - begin));
    }
}

// The last component of dir, trailing slashes aside ("hf" for "." and the like), into name.
static void dir_name(const char *dir, char *name, size_t len) {
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/') n--;
    size_t b = n;
    while (b > 0 && dir[b - 1] != '/') b--;
    const int plain = n > b && !(n - b == 1 && dir[b] == '.') && !(n - b == 2 && !strncmp(dir + b, "..", 2));
    snprintf(name, len, "%.*s", plain ? (int)(n - b) : 2, plain ? dir + b : "hf");
}

int slm_hf_config_of(const char *path, slm_model_config *cfg, slm_err *err) {
    char dir[4096], config[4200], name[64];
    const char *slash = strrchr(path, '/');
    if (slm_is_dir(path))
        snprintf(dir, sizeof dir, "%s", path);
    else
        snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
    snprintf(config, sizeof config, "%s/config.json", dir);
    dir_name(dir, name, sizeof name);
    return slm_hf_config_read(config, name, cfg, err);
}

void slm_hf_weights_each_unit(const slm_hf_weights *w, const slm_param_layout *lay,
                              void (*put)(void *ctx, int unit, const float *host), void *ctx) {
    size_t most = 0;
    for (int u = 0; u < lay->n_units; u++) most = lay->unit_size[u] > most ? lay->unit_size[u] : most;
    float *host = slm_xmalloc(most * sizeof(float) + 1);
    for (int u = 0; u < lay->n_units; u++) {
        fill_unit(w, lay, u, host);
        put(ctx, u, host);
    }
    free(host);
}

// A whole unit into the model's flat fp32 buffer.
static void put_unit(void *ctx, int u, const float *host) {
    slm_model *m = ctx;
    m->be->to_device(m->params + m->layout.unit_offset[u], host, m->layout.unit_size[u] * sizeof(float));
}

int slm_hf_load_model(const char *path, slm_model *m, slm_err *err) {
    slm_hf_weights w;
    if (slm_hf_weights_open_for(&w, path, &m->layout, "the model of config.json", err)) return -1;
    slm_hf_weights_each_unit(&w, &m->layout, put_unit, m);
    slm_hf_weights_close(&w);
    slm_model_refresh_compute(m);
    return 0;
}
