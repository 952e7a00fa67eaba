// init_from.c — opening a run's starting weights (init_from.h): Hugging Face
// files through model/hf_weights.h unit by unit into the owned slices, slm
// checkpoints through train/checkpoint.h.
#include "train/init_from.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "model/hf_weights.h"
#include "train/checkpoint.h"

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

int slm_source_is_hf(const char *path) {
    struct stat st;
    return (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) || ends_with(path, ".safetensors") ||
           ends_with(path, ".index.json");
}

int slm_source_config(const char *path, slm_model_config *cfg, slm_err *err) {
    slm_ckpt_meta meta;
    return slm_source_is_hf(path) ? slm_hf_config_of(path, cfg, err) : slm_checkpoint_peek(path, cfg, &meta, err);
}

static int load_hf(const char *path, slm_strategy *st, slm_err *err) {
    const slm_param_layout *lay = &st->model->layout;
    slm_hf_weights w;
    if (slm_hf_weights_open(&w, path, err)) return -1;
    if (slm_hf_weights_check(&w, lay, "this run's model", err)) {
        slm_hf_weights_close(&w);
        return -1;
    }
    size_t most = 0;
    for (int u = 0; u < lay->n_units; u++) most = lay->unit_size[u] > most ? lay->unit_size[u] : most;
    float *host = slm_xmalloc(most * sizeof(float));
    for (int u = 0; u < lay->n_units; u++) {
        const slm_unit_state *us = &st->units[u];
        if (!us->own_len) continue;
        slm_hf_weights_unit(&w, lay, u, host);
        st->model->be->to_device(st->p + us->own_off, host + us->own_begin, us->own_len * sizeof(float));
    }
    free(host);
    slm_hf_weights_close(&w);
    slm_strategy_refresh_compute(st);
    return 0;
}

int slm_source_load(const char *path, slm_strategy *st, slm_err *err) {
    return slm_source_is_hf(path) ? load_hf(path, st, err) : slm_checkpoint_load_weights(path, st, err);
}

int slm_source_load_model(const char *path, slm_model *m, int *seq_len, slm_err *err) {
    *seq_len = m->cfg.seq_len;
    if (slm_source_is_hf(path)) return slm_hf_load_model(path, m, err);
    slm_ckpt_meta meta;
    if (slm_checkpoint_load_model(path, m, &meta, err)) return -1;
    *seq_len = meta.seq_len;
    return 0;
}
