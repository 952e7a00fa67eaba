// test_mixed.c — the bookkeeping of mixed precision (bf16 compute, fp32
// master) on the CPU backend in bf16 (its bf16 ops; the GEMMs through oneDNN,
// or their emulation on a CPU without bf16 instructions). What is checked is
// what the model and the strategies do around the ops, for single, ddp,
// fsdp-full and fsdp-grad-op (one rank):
//   - what they allocate, category by category, is what slm_strategy_plan and
//     slm_act_sizes_compute say in bf16;
//   - after the initialisation, after an AdamW step, and after a checkpoint
//     load, the compute copy is the bf16 of the fp32 master (round to nearest,
//     ties to even), element for element;
//   - the parameters a unit's hook hands the graph are that unit's compute
//     copy (FSDP: gathered, in bf16, into its slot).
// What the bf16 ops compute is checked against fp32 by test_model_grad
// (gradients) and test_hf_reference (against Hugging Face).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/bf16.h"
#include "parallel/strategy.h"
#include "testutil.h"
#include "train/checkpoint.h"

// Elements of the owned compute copy that are not the bf16 of the master.
static size_t copy_mismatches(const slm_strategy *st) {
    const uint16_t *pc = st->p_c;
    size_t bad = 0;
    for (size_t i = 0; i < st->n_own; i++) bad += pc[i] != slm_bf16_from_f32(st->p[i]);
    return bad;
}

// Units whose parameters, as the forward's hook hands them, are not the bf16 of the unit's master.
static int hook_mismatches(slm_strategy *st) {
    const slm_param_layout *lay = &st->model->layout;
    const slm_unit_hooks *hk = &st->model->hooks;
    int bad = 0;
    slm_strategy_set_eval(st, 1);  // every gathered unit freed at its release
    for (int u = 0; u < lay->n_units; u++) {
        const uint16_t *got = hk->params_fwd(hk->ctx, u);
        const float *master = st->p + st->units[u].own_off;  // one rank owns every unit whole
        size_t wrong = 0;
        for (size_t i = 0; i < lay->unit_size[u]; i++) wrong += got[i] != slm_bf16_from_f32(master[i]);
        bad += wrong > 0;
        hk->release(hk->ctx, u);
    }
    slm_strategy_set_eval(st, 0);
    return bad;
}

static void check(slm_strategy_kind kind) {
    const char *name = slm_strategy_names[kind];
    slm_model_config c;
    slm_preset("tiny", &c, NULL);
    const int B = 2, T = 32;
    slm_backend *be = slm_backend_cpu_bf16();
    slm_model m;
    slm_strategy st;
    slm_optimizer opt;
    slm_err err;
    const slm_adamw_config acfg = {1e-2f, 0.9f, 0.95f, 1e-8f, 0.1f, 0.0f};
    if (slm_strategy_init(&st, &m, &c, be, slm_comm_single(), kind, 1, &err) ||
        slm_optimizer_init_for(&opt, &st, &acfg, &err) || slm_model_alloc_acts(&m, B, T, SLM_ATTN_VANILLA, &err)) {
        t_check(0, "%s: init in bf16: %s", name, err.msg);
        slm_backend_destroy(be);
        return;
    }
    slm_strategy_cost plan;
    slm_strategy_plan(&c, kind, 1, 1, 1, SLM_BF16, &plan);
    slm_act_sizes acts;
    slm_act_sizes_compute(&c, B, T, SLM_ATTN_VANILLA, 1, 2, &acts);
    const size_t *cur = be->mem.cur;
    t_check(cur[SLM_MEM_PARAMS] == plan.bytes[SLM_MEM_PARAMS] && cur[SLM_MEM_GRADS] == plan.bytes[SLM_MEM_GRADS] &&
                cur[SLM_MEM_OPTIMIZER] == plan.bytes[SLM_MEM_OPTIMIZER] &&
                cur[SLM_MEM_COMM] == plan.bytes[SLM_MEM_COMM] && cur[SLM_MEM_ACTIVATIONS] == acts.activations_bytes &&
                cur[SLM_MEM_ATTENTION] == acts.attention_bytes && cur[SLM_MEM_WORKSPACE] == acts.workspace_bytes,
            "%s, bf16: allocates params %zu (plan %zu), grads %zu (%zu), optimizer %zu (%zu), comm %zu (%zu), "
            "activations %zu (%zu), attention %zu (%zu), workspace %zu (%zu) bytes",
            name, cur[SLM_MEM_PARAMS], plan.bytes[SLM_MEM_PARAMS], cur[SLM_MEM_GRADS], plan.bytes[SLM_MEM_GRADS],
            cur[SLM_MEM_OPTIMIZER], plan.bytes[SLM_MEM_OPTIMIZER], cur[SLM_MEM_COMM], plan.bytes[SLM_MEM_COMM],
            cur[SLM_MEM_ACTIVATIONS], acts.activations_bytes, cur[SLM_MEM_ATTENTION], acts.attention_bytes,
            cur[SLM_MEM_WORKSPACE], acts.workspace_bytes);

    slm_strategy_init_weights(&st, 7);
    size_t bad = copy_mismatches(&st);
    t_check(bad == 0 && (void *)st.p_c != (void *)st.p,
            "%s: after the init, the compute copy is bf16(master) (%zu of %zu differ)", name, bad, st.n_own);
    int bad_units = hook_mismatches(&st);
    t_check(bad_units == 0, "%s: the forward's hook hands each unit its bf16 parameters (%d of %d units differ)", name,
            bad_units, m.layout.n_units);

    uint64_t rng = 11;
    t_fill_uniform(st.g, st.n_own, &rng, -1, 1);
    uint16_t *before = malloc(st.n_own * sizeof *before);
    memcpy(before, st.p_c, st.n_own * sizeof *before);
    slm_optimizer_step(&opt, 1e-2f);
    bad = copy_mismatches(&st);
    t_check(bad == 0 && memcmp(before, st.p_c, st.n_own * sizeof *before),
            "%s: after an AdamW step, the compute copy is bf16 of the new master (%zu of %zu differ)", name, bad,
            st.n_own);

    char path[512];
    snprintf(path, sizeof path, "%s", t_tmp_path(name));
    slm_ckpt_meta meta = {.step = 1, .data_world = 1, .seq_len = T, .micro_batch = B, .global_batch = B};
    int saved = slm_checkpoint_save(path, &st, &opt, &meta, &err) == 0;
    memset(st.p_c, 0, st.n_own * sizeof(uint16_t));
    int loaded = saved && slm_checkpoint_load(path, &st, &opt, &meta, &err) == 0;
    bad = copy_mismatches(&st);
    t_check(loaded && bad == 0,
            "%s: after a checkpoint load, the compute copy is made again from the master (%s%zu differ)", name,
            loaded ? "" : err.msg, bad);
    free(before);
    slm_optimizer_free(&opt);
    slm_strategy_free(&st);
    slm_backend_destroy(be);
}

int main(void) {
    for (int k = 0; k < 4; k++) check((slm_strategy_kind)k);
    return t_finish("test_mixed");
}
