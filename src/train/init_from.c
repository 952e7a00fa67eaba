// init_from.c — opening a run's starting weights (init_from.h): Hugging Face
// files through model/hf_weights.h unit by unit into the owned slices, slm
// checkpoints through train/checkpoint.h.
#include "train/init_from.h"

#include "core/path.h"
#include "model/hf_weights.h"
#include "train/checkpoint.h"

int slm_source_is_hf(const char *path) {
    return slm_is_dir(path) || slm_ends_with(path, ".safetensors") || slm_ends_with(path, ".index.json");
}

int slm_source_config(const char *path, slm_model_config *cfg, slm_err *err) {
    slm_ckpt_meta meta;
    return slm_source_is_hf(path) ? slm_hf_config_of(path, cfg, err) : slm_checkpoint_peek(path, cfg, &meta, err);
}

// This rank's slice of a unit into the owned fp32 buffer.
static void put_owned(void *ctx, int u, const float *host) {
    slm_strategy *st = ctx;
    const slm_unit_state *us = &st->units[u];
    if (us->own_len) st->model->be->to_device(st->p + us->own_off, host + us->own_begin, us->own_len * sizeof(float));
}

static int load_hf(const char *path, slm_strategy *st, slm_err *err) {
    slm_hf_weights w;
    if (slm_hf_weights_open_for(&w, path, &st->model->layout, "this run's model", err)) return -1;
    slm_hf_weights_each_unit(&w, &st->model->layout, put_owned, st);
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
