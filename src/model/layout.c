// layout.c — where every parameter lives in the flat buffer, and how many
// bytes of activations a micro batch needs. Both are derived from the config
// alone, so the strategies, the checkpoint and `slm info` agree with the graph.
// Activations are in the compute dtype (elem_bytes each), except the fp32
// rstd, losses, flash's log-sum-exp (slm_attention_sizes) and RoPE tables, and
// the int tokens.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/llama.h"

enum { ALIGN_FLOATS = 16 };

static size_t align_up(size_t n) { return (n + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS; }

static void add_tensor(slm_param_layout *lay, size_t *off, const char *name, int rows, int cols, int ndim) {
    slm_tensor *t = &lay->tensors[lay->n_tensors++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->offset = *off;
    t->rows = rows;
    t->cols = cols;
    t->ndim = ndim;
    t->decay = ndim == 2;
    *off += align_up((size_t)rows * cols);
    lay->n_params += (int64_t)rows * cols;
}

// A matrix [rows, cols] (weight decay applies) or a vector [n] (a norm's weight: none).
static void add_matrix(slm_param_layout *lay, size_t *off, const char *name, int rows, int cols) {
    add_tensor(lay, off, name, rows, cols, 2);
}
static void add_vector(slm_param_layout *lay, size_t *off, const char *name, int n) {
    add_tensor(lay, off, name, n, 1, 1);
}

static const char *block_name(char *buf, size_t len, int layer, const char *suffix) {
    snprintf(buf, len, "model.layers.%d.%s", layer, suffix);
    return buf;
}

void slm_param_layout_init(slm_param_layout *lay, const slm_model_config *c) {
    const int L = c->n_layers, C = c->d_model, hd = slm_head_dim(c), F = c->ffn_dim, V = c->vocab;
    const int Hq = c->n_heads * hd, Kv = c->n_kv_heads * hd;
    memset(lay, 0, sizeof *lay);
    lay->n_units = L + 2;
    lay->unit_offset = slm_xcalloc((size_t)lay->n_units, sizeof(size_t));
    lay->unit_size = slm_xcalloc((size_t)lay->n_units, sizeof(size_t));
    lay->tensors = slm_xcalloc((size_t)L * SLM_MAX_TENSORS_PER_BLOCK + 3, sizeof(slm_tensor));
    size_t off = 0;
    char name[64];
    add_matrix(lay, &off, "model.embed_tokens.weight", V, C);
    lay->unit_size[0] = off;
    for (int l = 0; l < L; l++) {
        lay->unit_offset[l + 1] = off;
#define BLOCK_NAME(suffix) block_name(name, sizeof name, l, suffix)
        add_vector(lay, &off, BLOCK_NAME("input_layernorm.weight"), C);
        add_matrix(lay, &off, BLOCK_NAME("self_attn.q_proj.weight"), Hq, C);
        add_matrix(lay, &off, BLOCK_NAME("self_attn.k_proj.weight"), Kv, C);
        add_matrix(lay, &off, BLOCK_NAME("self_attn.v_proj.weight"), Kv, C);
        add_matrix(lay, &off, BLOCK_NAME("self_attn.o_proj.weight"), C, Hq);
        add_vector(lay, &off, BLOCK_NAME("post_attention_layernorm.weight"), C);
        add_matrix(lay, &off, BLOCK_NAME("mlp.gate_proj.weight"), F, C);
        add_matrix(lay, &off, BLOCK_NAME("mlp.up_proj.weight"), F, C);
        add_matrix(lay, &off, BLOCK_NAME("mlp.down_proj.weight"), C, F);
#undef BLOCK_NAME
        lay->unit_size[l + 1] = off - lay->unit_offset[l + 1];
    }
    lay->unit_offset[L + 1] = off;
    add_vector(lay, &off, "model.norm.weight", C);
    if (!c->tie_embeddings) add_matrix(lay, &off, "lm_head.weight", V, C);
    lay->unit_size[L + 1] = off - lay->unit_offset[L + 1];
    lay->total = off;
}

void slm_param_layout_free(slm_param_layout *lay) {
    free(lay->unit_offset);
    free(lay->unit_size);
    free(lay->tensors);
    memset(lay, 0, sizeof *lay);
}

const slm_tensor *slm_param_find(const slm_param_layout *lay, const char *name) {
    for (int i = 0; i < lay->n_tensors; i++)
        if (!strcmp(lay->tensors[i].name, name)) return &lay->tensors[i];
    return NULL;
}

int slm_param_layout_match(const slm_param_layout *have, const slm_param_layout *want, const char *where,
                           slm_err *err) {
    for (int i = 0; i < want->n_tensors; i++) {
        const slm_tensor *w = &want->tensors[i], *h = slm_param_find(have, w->name);
        if (!h) return slm_fail(err, "%s: tensor '%s' is missing, and this run's model has it", where, w->name);
        if (h->rows != w->rows || h->cols != w->cols || h->ndim != w->ndim)
            return slm_fail(err, "%s: tensor '%s' has shape [%d, %d], this run's model has [%d, %d]", where, w->name,
                            h->rows, h->cols, w->rows, w->cols);
    }
    for (int i = 0; i < have->n_tensors; i++)
        if (!slm_param_find(want, have->tensors[i].name))
            return slm_fail(err, "%s: unexpected tensor '%s': this run's model has no such tensor", where,
                            have->tensors[i].name);
    return 0;
}

void slm_act_plan(const slm_model_config *c, int B, int T, slm_attention attn, int training, size_t elem_bytes,
                  void (*visit)(void *ctx, void **slot, size_t bytes, slm_mem_cat cat), void *ctx, slm_model *m) {
    const size_t N = (size_t)B * T, C = c->d_model, hd = slm_head_dim(c), F = c->ffn_dim, V = c->vocab;
    const size_t Hq = c->n_heads * hd, Kv = c->n_kv_heads * hd, e = elem_bytes, f = sizeof(float);
    size_t saved, scratch;
    slm_attention_sizes(attn, B, T, c->n_heads, (int)hd, elem_bytes, &saved, &scratch);
    // BUF: n elements of `bytes` each (e: the compute dtype, f: fp32; attention's sizes are in bytes)
#define BUF(ptr, n, bytes, cat) visit(ctx, m ? (void **)&(ptr) : NULL, (n) * (bytes), cat)
    for (int l = 0; l < c->n_layers; l++) {
        slm_block_acts *a = m ? &m->acts[l] : NULL;
        BUF(a->xin, N * C, e, SLM_MEM_ACTIVATIONS);
        BUF(a->rstd1, N, f, SLM_MEM_ACTIVATIONS);
        BUF(a->xn1, N * C, e, SLM_MEM_ACTIVATIONS);
        BUF(a->q, N * Hq, e, SLM_MEM_ACTIVATIONS);
        BUF(a->k, N * Kv, e, SLM_MEM_ACTIVATIONS);
        BUF(a->v, N * Kv, e, SLM_MEM_ACTIVATIONS);
        BUF(a->att, N * Hq, e, SLM_MEM_ACTIVATIONS);
        BUF(a->attn_saved, saved, 1, SLM_MEM_ATTENTION);
        BUF(a->xmid, N * C, e, SLM_MEM_ACTIVATIONS);
        BUF(a->rstd2, N, f, SLM_MEM_ACTIVATIONS);
        BUF(a->xn2, N * C, e, SLM_MEM_ACTIVATIONS);
        BUF(a->g, N * F, e, SLM_MEM_ACTIVATIONS);
        BUF(a->u, N * F, e, SLM_MEM_ACTIVATIONS);
        BUF(a->h, N * F, e, SLM_MEM_ACTIVATIONS);
    }
    BUF(m->xfinal, N * C, e, SLM_MEM_ACTIVATIONS);
    BUF(m->rstdf, N, f, SLM_MEM_ACTIVATIONS);
    BUF(m->xnf, N * C, e, SLM_MEM_ACTIVATIONS);
    BUF(m->logits, N * V, e, SLM_MEM_ACTIVATIONS);
    BUF(m->losses, N, f, SLM_MEM_ACTIVATIONS);
    if (scratch) BUF(m->attn_scratch, scratch, 1, SLM_MEM_ATTENTION);
    if (training) {
        BUF(m->dres, N * C, e, SLM_MEM_WORKSPACE);
        BUF(m->dxn, N * C, e, SLM_MEM_WORKSPACE);
        BUF(m->datt, N * Hq, e, SLM_MEM_WORKSPACE);
        BUF(m->dq, N * Hq, e, SLM_MEM_WORKSPACE);
        BUF(m->dk, N * Kv, e, SLM_MEM_WORKSPACE);
        BUF(m->dv, N * Kv, e, SLM_MEM_WORKSPACE);
        BUF(m->dh, N * F, e, SLM_MEM_WORKSPACE);
        BUF(m->dg, N * F, e, SLM_MEM_WORKSPACE);
        BUF(m->du, N * F, e, SLM_MEM_WORKSPACE);
    }
    BUF(m->rope_cos, (size_t)T * hd / 2, f, SLM_MEM_WORKSPACE);
    BUF(m->rope_sin, (size_t)T * hd / 2, f, SLM_MEM_WORKSPACE);
    BUF(m->tokens, N, sizeof(int), SLM_MEM_WORKSPACE);
    BUF(m->targets, N, sizeof(int), SLM_MEM_WORKSPACE);
#undef BUF
}

static void sum_visit(void *ctx, void **slot, size_t bytes, slm_mem_cat cat) {
    slm_act_sizes *s = ctx;
    if (cat == SLM_MEM_ATTENTION)
        s->attention_bytes += bytes;
    else if (cat == SLM_MEM_WORKSPACE)
        s->workspace_bytes += bytes;
    else
        s->activations_bytes += bytes;
}

void slm_act_sizes_compute(const slm_model_config *c, int B, int T, slm_attention attn, int training, size_t elem_bytes,
                           slm_act_sizes *out) {
    memset(out, 0, sizeof *out);
    slm_act_plan(c, B, T, attn, training, elem_bytes, sum_visit, out, NULL);
}
