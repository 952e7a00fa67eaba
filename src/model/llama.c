// llama.c — the LLaMA graph, forward and backward, written once over the op
// table. Reads top to bottom like the architecture:
//   x = embed(tokens)
//   per block: x += o_proj(attention(rope(q_proj(n)), rope(k_proj(n)), v_proj(n))), n = rmsnorm(x)
//              x += down_proj(silu(gate_proj(n)) · up_proj(n)),                       n = rmsnorm(x)
//   logits = lm_head(rmsnorm(x))
// Parameters come unit by unit through the strategy hooks (defaults: the flat
// buffers), so DDP and FSDP change where parameters live, never this file.
// Parameters and activations are in the backend's compute dtype (elem bytes
// each), gradients in fp32; the ops see void * and the byte counts here follow.
#include "model/llama.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"

// Bytes of one element of the compute dtype.
static size_t elem_bytes(const slm_model *m) { return slm_dtype_bytes(m->be->compute); }

// Pointers to one block's tensors, in layout order (layout.c), in a unit of
// elements of `elem` bytes: the compute dtype's (parameters) or fp32's (gradients).
typedef struct {
    void *ln1, *wq, *wk, *wv, *wo, *ln2, *wg, *wu, *wd;
} block_ptrs;

static block_ptrs block_view(const slm_model *m, void *unit_base, size_t elem, int l) {
    const slm_tensor *t = &m->layout.tensors[1 + (size_t)l * SLM_MAX_TENSORS_PER_BLOCK];
    size_t base = m->layout.unit_offset[l + 1];
    block_ptrs p;
    void **dst[] = {&p.ln1, &p.wq, &p.wk, &p.wv, &p.wo, &p.ln2, &p.wg, &p.wu, &p.wd};
    for (int i = 0; i < SLM_MAX_TENSORS_PER_BLOCK; i++) *dst[i] = (char *)unit_base + (t[i].offset - base) * elem;
    return p;
}

void *slm_model_flat_params(const slm_model *m, int unit) {
    return (char *)m->params_c + m->layout.unit_offset[unit] * elem_bytes(m);
}
float *slm_model_flat_grads(const slm_model *m, int unit) { return m->grads + m->layout.unit_offset[unit]; }
void slm_hook_none(void *ctx, int unit) {}

// The default hooks: one process, parameters and gradients in the flat buffers.
static void *flat_params(void *ctx, int unit) { return slm_model_flat_params(ctx, unit); }
static float *flat_grads(void *ctx, int unit) { return slm_model_flat_grads(ctx, unit); }

void slm_model_init_shell(slm_model *m, const slm_model_config *c, slm_backend *be) {
    memset(m, 0, sizeof *m);
    m->cfg = *c;
    m->be = be;
    m->training = 1;
    slm_param_layout_init(&m->layout, c);
}

int slm_model_init(slm_model *m, const slm_model_config *c, slm_backend *be, int with_grads, slm_err *err) {
    slm_model_init_shell(m, c, be);
    m->training = with_grads;
    size_t bytes = m->layout.total * sizeof(float);
    m->params = slm_alloc(be, bytes, SLM_MEM_PARAMS);
    if (!m->params) return slm_mem_oom(be, err, "the parameters");
    be->zero(m->params, bytes);  // the alignment padding stays zero
    m->params_c = m->params;
    if (be->compute != SLM_F32) {
        size_t bytes_c = m->layout.total * slm_dtype_bytes(be->compute);
        if (!(m->params_c = slm_alloc(be, bytes_c, SLM_MEM_PARAMS)))
            return slm_mem_oom(be, err, "the compute copy of the parameters");
        be->zero(m->params_c, bytes_c);
    }
    if (with_grads) {
        m->grads = slm_alloc(be, bytes, SLM_MEM_GRADS);
        if (!m->grads) return slm_mem_oom(be, err, "the gradients");
        be->zero(m->grads, bytes);
    }
    m->hooks = (slm_unit_hooks){m, flat_params, flat_params, slm_hook_none, flat_grads, slm_hook_none};
    return 0;
}

static void free_visit(void *ctx, void **slot, size_t bytes, slm_mem_cat cat) {
    slm_free(ctx, *slot);
    *slot = NULL;
}

static void free_acts(slm_model *m) {
    if (!m->acts) return;
    slm_act_plan(&m->cfg, m->B, m->T, m->attn, m->training, elem_bytes(m), free_visit, m->be, m);
    free(m->acts);
    free(m->losses_host);
    m->acts = NULL;
    m->losses_host = NULL;
}

void slm_model_free(slm_model *m) {
    free_acts(m);
    if (m->params_c != m->params) slm_free(m->be, m->params_c);
    slm_free(m->be, m->params);
    slm_free(m->be, m->grads);
    slm_param_layout_free(&m->layout);
}

void slm_model_weights_host(const slm_param_layout *lay, uint64_t seed, float *host) {
    slm_rng rng = {seed};
    memset(host, 0, lay->total * sizeof(float));
    for (int i = 0; i < lay->n_tensors; i++) {
        const slm_tensor *t = &lay->tensors[i];
        float *p = host + t->offset;
        size_t n = (size_t)t->rows * t->cols;
        for (size_t j = 0; j < n; j++) p[j] = t->cols == 1 ? 1.0f : (float)(0.02 * slm_rng_normal(&rng));
    }
}

void slm_model_init_weights(slm_model *m, uint64_t seed) {
    float *host = slm_xmalloc(m->layout.total * sizeof(float));
    slm_model_weights_host(&m->layout, seed, host);
    m->be->to_device(m->params, host, m->layout.total * sizeof(float));
    free(host);
    slm_model_refresh_compute(m);
}

void slm_model_refresh_compute(slm_model *m) {
    if (m->params_c != m->params) m->be->ops->to_compute(m->params_c, m->params, m->layout.total);
}

typedef struct {
    slm_backend *be;
    int failed;
} alloc_ctx;

static void alloc_visit(void *ctx, void **slot, size_t bytes, slm_mem_cat cat) {
    alloc_ctx *a = ctx;
    *slot = a->failed ? NULL : slm_alloc(a->be, bytes, cat);
    if (!*slot) a->failed = 1;
}

// RoPE tables (rope.c) for positions 0 … T-1, on the device.
static void rope_tables(slm_model *m) {
    const size_t bytes = (size_t)m->T * (slm_head_dim(&m->cfg) / 2) * sizeof(float);
    float *cs = slm_xmalloc(bytes), *sn = slm_xmalloc(bytes);
    slm_rope_tables(&m->cfg, m->T, cs, sn);
    m->be->to_device(m->rope_cos, cs, bytes);
    m->be->to_device(m->rope_sin, sn, bytes);
    free(cs);
    free(sn);
}

int slm_model_alloc_acts(slm_model *m, int B, int T, slm_attention attn, slm_err *err) {
    free_acts(m);
    m->B = B;
    m->T = T;
    m->attn = attn;
    m->acts = slm_xcalloc((size_t)m->cfg.n_layers, sizeof(slm_block_acts));
    m->losses_host = slm_xcalloc((size_t)B * T, sizeof(float));
    alloc_ctx a = {m->be, 0};
    slm_act_plan(&m->cfg, B, T, attn, m->training, elem_bytes(m), alloc_visit, &a, m);
    if (a.failed) {
        char what[128];
        snprintf(what, sizeof what, "the activations of micro batch %d x %d (%s attention)", B, T,
                 slm_attention_names[attn]);
        return slm_mem_oom(m->be, err, what);
    }
    rope_tables(m);
    return 0;
}

float slm_model_forward(slm_model *m, const int *tokens, const int *targets, int B, int T, float dscale) {
    const slm_model_config *c = &m->cfg;
    const slm_ops *op = m->be->ops;
    const slm_unit_hooks *hk = &m->hooks;
    const int L = c->n_layers, C = c->d_model, H = c->n_heads, KVH = c->n_kv_heads, hd = slm_head_dim(c);
    const int F = c->ffn_dim, V = c->vocab, Hq = H * hd, Kv = KVH * hd, N = B * T;
    const size_t elem = elem_bytes(m), NC = (size_t)N * C * elem;
    slm_attn_fwd_fn attention = m->attn == SLM_ATTN_FLASH ? op->attention_flash_fwd : op->attention_vanilla_fwd;
    m->fwd_B = B;
    m->fwd_T = T;

    m->be->to_device(m->tokens, tokens, (size_t)N * sizeof(int));
    op->embedding_fwd(m->acts[0].xin, hk->params_fwd(hk->ctx, 0), m->tokens, N, C);
    hk->release(hk->ctx, 0);

    for (int l = 0; l < L; l++) {
        slm_block_acts *a = &m->acts[l];
        block_ptrs p = block_view(m, hk->params_fwd(hk->ctx, l + 1), elem, l);
        void *xout = l + 1 < L ? m->acts[l + 1].xin : m->xfinal;
        // attention: xmid = xin + o_proj(attention(rope(q), rope(k), v)) of rmsnorm(xin)
        op->rmsnorm_fwd(a->xn1, a->rstd1, a->xin, p.ln1, N, C, c->norm_eps);
        op->matmul_fwd(a->q, a->xn1, p.wq, N, C, Hq, 0);
        op->matmul_fwd(a->k, a->xn1, p.wk, N, C, Kv, 0);
        op->matmul_fwd(a->v, a->xn1, p.wv, N, C, Kv, 0);
        op->rope_fwd(a->q, m->rope_cos, m->rope_sin, B, T, H, hd);
        op->rope_fwd(a->k, m->rope_cos, m->rope_sin, B, T, KVH, hd);
        attention(a->att, a->attn_saved, m->attn_scratch, a->q, a->k, a->v, B, T, H, KVH, hd);
        m->be->copy(a->xmid, a->xin, NC);
        op->matmul_fwd(a->xmid, a->att, p.wo, N, Hq, C, 1);
        // MLP: xout = xmid + down_proj(silu(gate_proj(n)) · up_proj(n)), n = rmsnorm(xmid)
        op->rmsnorm_fwd(a->xn2, a->rstd2, a->xmid, p.ln2, N, C, c->norm_eps);
        op->matmul_fwd(a->g, a->xn2, p.wg, N, C, F, 0);
        op->matmul_fwd(a->u, a->xn2, p.wu, N, C, F, 0);
        op->swiglu_fwd(a->h, a->g, a->u, (size_t)N * F);
        m->be->copy(xout, a->xmid, NC);
        op->matmul_fwd(xout, a->h, p.wd, N, F, C, 1);
        hk->release(hk->ctx, l + 1);
    }

    // head: logits = lm_head(rmsnorm(x)); the tied head is the embedding matrix
    const size_t head_off = m->layout.tensors[m->layout.n_tensors - 1].offset - m->layout.unit_offset[L + 1];
    void *head = hk->params_fwd(hk->ctx, L + 1);
    void *lm = c->tie_embeddings ? hk->params_fwd(hk->ctx, 0) : (char *)head + head_off * elem;
    op->rmsnorm_fwd(m->xnf, m->rstdf, m->xfinal, head, N, C, c->norm_eps);
    op->matmul_fwd(m->logits, m->xnf, lm, N, C, V, 0);
    if (c->tie_embeddings) hk->release(hk->ctx, 0);
    hk->release(hk->ctx, L + 1);
    if (!targets) return 0.0f;

    m->be->to_device(m->targets, targets, (size_t)N * sizeof(int));
    op->xent_fwd_bwd(m->losses, m->logits, m->targets, N, V, dscale);
    m->be->to_host(m->losses_host, m->losses, (size_t)N * sizeof(float));
    double sum = 0.0;
    for (int n = 0; n < N; n++) sum += m->losses_host[n];
    return (float)(sum / N);
}

void slm_model_backward(slm_model *m) {
    const slm_model_config *c = &m->cfg;
    const slm_ops *op = m->be->ops;
    const slm_unit_hooks *hk = &m->hooks;
    const int B = m->fwd_B, T = m->fwd_T, N = B * T;
    const int L = c->n_layers, C = c->d_model, H = c->n_heads, KVH = c->n_kv_heads, hd = slm_head_dim(c);
    const int F = c->ffn_dim, V = c->vocab, Hq = H * hd, Kv = KVH * hd;
    slm_attn_bwd_fn attention_bwd = m->attn == SLM_ATTN_FLASH ? op->attention_flash_bwd : op->attention_vanilla_bwd;
    const size_t head_off = m->layout.tensors[m->layout.n_tensors - 1].offset - m->layout.unit_offset[L + 1];
    const size_t elem = elem_bytes(m), f = sizeof(float);

    // head (m->logits holds dlogits)
    void *head = hk->params_bwd(hk->ctx, L + 1);
    float *dhead = hk->grads(hk->ctx, L + 1);
    void *lm = c->tie_embeddings ? hk->params_bwd(hk->ctx, 0) : (char *)head + head_off * elem;
    float *dlm = c->tie_embeddings ? hk->grads(hk->ctx, 0) : dhead + head_off;
    op->matmul_bwd(m->dxn, dlm, m->logits, m->xnf, lm, N, C, V, 0);
    m->be->zero(m->dres, (size_t)N * C * elem);
    op->rmsnorm_bwd(m->dres, dhead, m->dxn, m->xfinal, head, m->rstdf, N, C);
    if (c->tie_embeddings) hk->release(hk->ctx, 0);
    hk->release(hk->ctx, L + 1);
    hk->grads_ready(hk->ctx, L + 1);

    for (int l = L - 1; l >= 0; l--) {
        slm_block_acts *a = &m->acts[l];
        block_ptrs p = block_view(m, hk->params_bwd(hk->ctx, l + 1), elem, l);
        block_ptrs g = block_view(m, hk->grads(hk->ctx, l + 1), f, l);
        // MLP (dres is the gradient of the block's output)
        op->matmul_bwd(m->dh, g.wd, m->dres, a->h, p.wd, N, F, C, 0);
        op->swiglu_bwd(m->dg, m->du, m->dh, a->g, a->u, (size_t)N * F);
        op->matmul_bwd(m->dxn, g.wg, m->dg, a->xn2, p.wg, N, C, F, 0);
        op->matmul_bwd(m->dxn, g.wu, m->du, a->xn2, p.wu, N, C, F, 1);
        op->rmsnorm_bwd(m->dres, g.ln2, m->dxn, a->xmid, p.ln2, a->rstd2, N, C);
        // attention (dres is now the gradient of xmid)
        op->matmul_bwd(m->datt, g.wo, m->dres, a->att, p.wo, N, Hq, C, 0);
        attention_bwd(m->dq, m->dk, m->dv, m->attn_scratch, m->datt, a->att, a->attn_saved, a->q, a->k, a->v, B, T, H,
                      KVH, hd);
        op->rope_bwd(m->dq, m->rope_cos, m->rope_sin, B, T, H, hd);
        op->rope_bwd(m->dk, m->rope_cos, m->rope_sin, B, T, KVH, hd);
        op->matmul_bwd(m->dxn, g.wq, m->dq, a->xn1, p.wq, N, C, Hq, 0);
        op->matmul_bwd(m->dxn, g.wk, m->dk, a->xn1, p.wk, N, C, Kv, 1);
        op->matmul_bwd(m->dxn, g.wv, m->dv, a->xn1, p.wv, N, C, Kv, 1);
        op->rmsnorm_bwd(m->dres, g.ln1, m->dxn, a->xin, p.ln1, a->rstd1, N, C);
        hk->release(hk->ctx, l + 1);
        hk->grads_ready(hk->ctx, l + 1);
    }

    op->embedding_bwd(hk->grads(hk->ctx, 0), m->dres, m->tokens, N, C);
    hk->grads_ready(hk->ctx, 0);
}

void slm_model_zero_grads(slm_model *m) { m->be->zero(m->grads, m->layout.total * sizeof(float)); }

void slm_model_replay_hooks(const slm_model *m, int backward) {
    const slm_unit_hooks *h = &m->hooks;
    const int last = m->layout.n_units - 1, tied = m->cfg.tie_embeddings;
    if (!backward) {
        for (int u = 0; u <= last; u++) {  // embedding, blocks, head (a tied head reads the embedding)
            h->params_fwd(h->ctx, u);
            if (u == last && tied) {
                h->params_fwd(h->ctx, 0);
                h->release(h->ctx, 0);
            }
            h->release(h->ctx, u);
        }
        return;
    }
    for (int u = last; u >= 1; u--) {  // head (with a tied embedding), blocks L … 1
        h->params_bwd(h->ctx, u);
        h->grads(h->ctx, u);
        if (u == last && tied) {
            h->params_bwd(h->ctx, 0);
            h->grads(h->ctx, 0);
            h->release(h->ctx, 0);
        }
        h->release(h->ctx, u);
        h->grads_ready(h->ctx, u);
    }
    h->grads(h->ctx, 0);  // the embedding's gradient
    h->grads_ready(h->ctx, 0);
}
