// test_checkpoint.c — the checkpoint file as docs/formats.md describes it,
// read back by an independent reading of the format: a file written by
// `slm_checkpoint_save` loads with the same parameters; its header holds the
// documented fields at the documented offsets; the documented checksum (FNV-1a
// style over 64-bit words of the payload, then of the header with the
// checksum zero) is the one stored; a version-1 file (no shard fields) made
// from it by that description loads with the same parameters; and a damaged
// version-1 payload is refused. A model with RoPE scaling is written as
// version 3, its scaling at offset 160, read back by peek, and refused by a
// model without it.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parallel/comm.h"
#include "parallel/strategy.h"
#include "testutil.h"
#include "train/checkpoint.h"

enum { HEADER = 256, OFF_VERSION = 8, OFF_STEP = 100, OFF_CHECKSUM = 140, OFF_SHARDS = 148, OFF_SCALING = 160 };

static float *load_params(const char *path, const slm_model_config *c, size_t *n, slm_err *err) {
    slm_backend *be = slm_backend_cpu();
    slm_model m;
    slm_ckpt_meta meta;
    float *out = NULL;
    if (slm_model_init(&m, c, be, 0, err) == 0 && slm_checkpoint_load_model(path, &m, &meta, err) == 0) {
        *n = m.layout.total;
        out = malloc(*n * sizeof(float));
        memcpy(out, m.params, *n * sizeof(float));
    }
    slm_model_free(&m);
    slm_backend_destroy(be);
    return out;
}

// A checkpoint of a model with Llama 3.1 RoPE scaling: version 3, the scaling stored and checked.
static void check_rope_scaling(const slm_ckpt_meta *meta) {
    slm_model_config c, plain;
    slm_preset("tiny", &c, NULL);
    plain = c;
    c.rope_scaling = (slm_rope_scaling){8.0f, 1.0f, 4.0f, 8192};
    slm_backend *be = slm_backend_cpu();
    slm_model m;
    slm_strategy st;
    slm_optimizer opt;
    slm_err err;
    const slm_adamw_config acfg = {1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, 1.0f};
    const char *path = t_tmp_path("v3.ckpt");
    if (slm_strategy_init(&st, &m, &c, be, slm_comm_single(), SLM_STRATEGY_SINGLE, 1, &err) ||
        slm_optimizer_init_for(&opt, &st, &acfg, &err)) {
        t_check(0, "strategy init: %s", err.msg);
        return;
    }
    slm_strategy_init_weights(&st, 7);
    t_check(slm_checkpoint_save(path, &st, &opt, meta, &err) == 0, "save a checkpoint with RoPE scaling");
    size_t size = 0;
    unsigned char *file = t_read_file(path, &size);
    uint32_t version = 0;
    float factor = 0;
    int32_t original = 0;
    if (size > HEADER) {
        memcpy(&version, file + OFF_VERSION, 4);
        memcpy(&factor, file + OFF_SCALING, 4);
        memcpy(&original, file + OFF_SCALING + 12, 4);
    }
    t_check(version == 3 && factor == 8.0f && original == 8192, "version %u, scaling factor %g, original context %d",
            version, factor, original);
    slm_model_config peek_cfg;
    slm_ckpt_meta peek;
    t_check(slm_checkpoint_peek(path, &peek_cfg, &peek, &err) == 0 &&
                !memcmp(&peek_cfg.rope_scaling, &c.rope_scaling, sizeof c.rope_scaling),
            "peek reads the scaling back");
    size_t n;
    float *p = load_params(path, &plain, &n, &err);
    t_check(!p && strstr(err.msg, "different model"), "a model without the scaling refuses it: %s", err.msg);
    free(p);
    free(file);
    slm_optimizer_free(&opt);
    slm_strategy_free(&st);
    slm_backend_destroy(be);
}

int main(void) {
    slm_model_config c;
    slm_preset("tiny", &c, NULL);
    slm_backend *be = slm_backend_cpu();
    slm_model m;
    slm_strategy st;
    slm_optimizer opt;
    slm_err err;
    const slm_adamw_config acfg = {1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, 1.0f};
    if (slm_strategy_init(&st, &m, &c, be, slm_comm_single(), SLM_STRATEGY_SINGLE, 1, &err) ||
        slm_optimizer_init_for(&opt, &st, &acfg, &err)) {
        t_check(0, "strategy init: %s", err.msg);
        return t_finish("test_checkpoint");
    }
    slm_strategy_init_weights(&st, 7);
    slm_ckpt_meta meta = {.step = 12,
                          .rng_state = 7,
                          .data_pos = 4096,
                          .data_world = 1,
                          .seq_len = 64,
                          .micro_batch = 2,
                          .global_batch = 4};
    char v2[4096], v1[4096], bad[4096];
    snprintf(v2, sizeof v2, "%s", t_tmp_path("v2.ckpt"));
    snprintf(v1, sizeof v1, "%s", t_tmp_path("v1.ckpt"));
    snprintf(bad, sizeof bad, "%s", t_tmp_path("bad.ckpt"));
    t_check(slm_checkpoint_save(v2, &st, &opt, &meta, &err) == 0, "save a one-file checkpoint (version 2)");

    size_t size = 0;
    unsigned char *file = t_read_file(v2, &size);
    uint32_t version, rank, world, data_world;
    uint64_t step, stored;
    memcpy(&version, file + OFF_VERSION, 4);
    memcpy(&step, file + OFF_STEP, 8);
    memcpy(&stored, file + OFF_CHECKSUM, 8);
    memcpy(&rank, file + OFF_SHARDS, 4);
    memcpy(&world, file + OFF_SHARDS + 4, 4);
    memcpy(&data_world, file + OFF_SHARDS + 8, 4);
    size_t want = HEADER + 3 * m.layout.total * sizeof(float);
    t_check(size == want && !memcmp(file, "SLMCKPT1", 8) && version == 2 && step == 12 && rank == 0 && world == 1 &&
                data_world == 1,
            "header as documented: %zu bytes (want %zu), version %u, step %llu, shard %u of %u, data world %u", size,
            want, version, (unsigned long long)step, rank, world, data_world);
    t_check(t_ckpt_checksum(file, size) == stored, "the stored checksum is the documented one (%016llx)",
            (unsigned long long)stored);

    // a version-1 file: version 1, no shard fields, checksum recomputed
    version = 1;
    memcpy(file + OFF_VERSION, &version, 4);
    memset(file + OFF_SHARDS, 0, 12);
    uint64_t sum = t_ckpt_checksum(file, size);
    memcpy(file + OFF_CHECKSUM, &sum, 8);
    t_write_file("v1.ckpt", file, size);
    file[HEADER + 40] ^= 0x55;  // a damaged payload
    t_write_file("bad.ckpt", file, size);

    size_t n2 = 0, n1 = 0;
    float *p2 = load_params(v2, &c, &n2, &err), *p1 = load_params(v1, &c, &n1, &err);
    t_check(p2 && p1 && n1 == n2 && !memcmp(p1, p2, n1 * sizeof(float)),
            "the version-1 file loads with the same %zu parameters, bit for bit", n1);
    slm_model_config peek_cfg;
    slm_ckpt_meta peek = {0};
    int peeked = slm_checkpoint_peek(v1, &peek_cfg, &peek, &err);
    t_check(peeked == 0 && peek.step == 12 && peek.data_world == 1 && peek.data_pos == 4096,
            "version 1 header: step %llu, data position %llu, data world %d", (unsigned long long)peek.step,
            (unsigned long long)peek.data_pos, peek.data_world);
    size_t nb;
    float *pb = load_params(bad, &c, &nb, &err);
    t_check(!pb && strstr(err.msg, "checksum mismatch"), "a damaged version-1 payload is refused: %s", err.msg);

    check_rope_scaling(&meta);

    free(p1);
    free(p2);
    free(pb);
    free(file);
    slm_optimizer_free(&opt);
    slm_strategy_free(&st);
    slm_backend_destroy(be);
    return t_finish("test_checkpoint");
}
