// test_hf_reference.c — slm.c's LLaMA against Hugging Face's LlamaForCausalLM
// (transformers, float32, eager attention) on saved tensors, for an untied and
// a tied model (2 layers, d_model 64, 4 heads / 2 kv heads, ffn 176, vocab 256,
// batch 2 × 16 tokens). The data and its format: tests/reference/README.md.
// For each model, on the CPU backend and (where a GPU is present) the CUDA one,
// with vanilla attention and again with flash where the backend has it: the
// logits, the loss, every parameter gradient by name, and the losses of 5
// AdamW steps (clip 1.0) on the same batch.
// Tolerances on the CPU (fp32 against fp32; the errors seen are around 1e-6):
//   logits, each gradient: max|a − ref| / max|ref| ≤ 1e-4
//   loss:                  |a − ref| ≤ 1e-5·|ref|
//   each AdamW step's loss: |a − ref| ≤ 1e-4·|ref|
// In bf16 — CUDA, and the CPU's bf16 (its oneDNN GEMMs, or their emulation on
// a CPU without bf16 instructions) — bf16 activations and compute copy of the
// weights, fp32 master and gradients, against the same fp32 reference: each bf16 rounding is 2^-8 relative, and a value
// passes through a few of them per layer (norm, projection, attention's scores and probabilities, SwiGLU), 2 layers
// deep: logits 2^-5, gradients 2^-4 (the backward's chain is as long again), loss 2^-6 (a mean of log-softmaxes moves
// less than the logits), each AdamW step's loss 2^-5.
// The file reader is checked too: a wrong magic and a truncated file are refused.
// label: gpu
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/bf16.h"
#include "model/llama.h"
#include "testutil.h"
#include "train/optim.h"

typedef struct {
    slm_backend_kind backend;
    slm_dtype dtype;
    double logits, grad, loss, train;  // as in the header comment
} tolerances;
static const tolerances TOL_CPU = {SLM_BACKEND_CPU, SLM_F32, 1e-4, 1e-4, 1e-5, 1e-4};
static const tolerances TOL_CPU_BF16 = {SLM_BACKEND_CPU, SLM_BF16, 1.0 / 32, 1.0 / 16, 1.0 / 64, 1.0 / 32};
static const tolerances TOL_CUDA = {SLM_BACKEND_CUDA, SLM_BF16, 1.0 / 32, 1.0 / 16, 1.0 / 64, 1.0 / 32};

// ---- the reference file ----

enum { REF_F32 = 0, REF_I32 = 1, REF_MAX_DIMS = 8 };

typedef struct {
    char *name;
    int dtype;  // REF_F32 or REF_I32
    int ndim;
    int dims[REF_MAX_DIMS];
    size_t n;    // elements
    void *data;  // n 4-byte values, copied out of the file (aligned)
} ref_entry;

typedef struct {
    int n;
    ref_entry *e;
} ref_file;

typedef struct {
    const unsigned char *p;
    size_t left;
} cursor;

static const unsigned char REF_MAGIC[8] = {'S', 'L', 'M', 'R', 'E', 'F', 0, 0};

static int take(cursor *c, size_t n, const void **out) {
    if (c->left < n) return -1;
    *out = c->p;
    c->p += n;
    c->left -= n;
    return 0;
}

static int take_u32(cursor *c, uint32_t *v) {
    const unsigned char *b;
    if (take(c, 4, (const void **)&b)) return -1;
    *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return 0;
}

static void ref_free(ref_file *rf) {
    for (int i = 0; i < rf->n; i++) {
        free(rf->e[i].name);
        free(rf->e[i].data);
    }
    free(rf->e);
    memset(rf, 0, sizeof *rf);
}

// Reads the whole file; -1 with err set when it is not a version-1 reference
// file, is truncated, or has bytes past its last entry. Values are copied as
// they are, so this assumes a little-endian host (as every target of slm.c is).
static int ref_load(ref_file *rf, const char *path, slm_err *err) {
    memset(rf, 0, sizeof *rf);
    FILE *f = fopen(path, "rb");
    if (!f) return slm_fail(err, "%s: cannot open (run tests/reference/make_reference.py to make it)", path);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc(size > 0 ? (size_t)size : 1);
    int ok = size >= 0 && fread(buf, 1, (size_t)size, f) == (size_t)size;
    fclose(f);
    cursor c = {buf, ok ? (size_t)size : 0};
    const void *magic;
    uint32_t version, count = 0, i = 0;
    if (!ok) {
        slm_fail(err, "%s: read error", path);
        goto fail;
    }
    if (take(&c, 8, &magic) || memcmp(magic, REF_MAGIC, 8) != 0) {
        slm_fail(err, "%s: not an slm reference file (expected magic \"SLMREF\\0\\0\" in the first 8 bytes)", path);
        goto fail;
    }
    if (take_u32(&c, &version) || take_u32(&c, &count)) {
        slm_fail(err, "%s: truncated header (%ld bytes, 16 expected)", path, size);
        goto fail;
    }
    if (version != 1) {
        slm_fail(err, "%s: format version %u, expected 1", path, version);
        goto fail;
    }
    if (count > c.left / 16) {  // an entry takes at least 16 bytes
        slm_fail(err, "%s: truncated: header announces %u entries, only %zu bytes follow", path, count, c.left);
        goto fail;
    }
    rf->e = calloc(count ? count : 1, sizeof(ref_entry));
    for (i = 0; i < count; i++) {
        ref_entry *e = &rf->e[i];
        uint32_t len, dtype, ndim, d;
        const void *name, *data;
        if (take_u32(&c, &len) || take(&c, len, &name) || take_u32(&c, &dtype) || take_u32(&c, &ndim)) goto truncated;
        rf->n = (int)i + 1;
        e->name = malloc(len + 1);
        memcpy(e->name, name, len);
        e->name[len] = 0;
        if (dtype != REF_F32 && dtype != REF_I32) {
            slm_fail(err, "%s: entry %u (%s): dtype %u, expected 0 (f32) or 1 (i32)", path, i, e->name, dtype);
            goto fail;
        }
        if (ndim > REF_MAX_DIMS) {
            slm_fail(err, "%s: entry %u (%s): %u dims, at most %d expected", path, i, e->name, ndim, REF_MAX_DIMS);
            goto fail;
        }
        e->dtype = (int)dtype;
        e->ndim = (int)ndim;
        e->n = 1;
        for (uint32_t j = 0; j < ndim; j++) {
            if (take_u32(&c, &d)) goto truncated;
            if (d > (1u << 30) || (d && e->n > ((size_t)1 << 40) / d)) {
                slm_fail(err, "%s: entry %u (%s): implausible dimension %u", path, i, e->name, d);
                goto fail;
            }
            e->dims[j] = (int)d;
            e->n *= d;
        }
        if (take(&c, e->n * 4, &data)) goto truncated;
        e->data = malloc(e->n ? e->n * 4 : 1);
        memcpy(e->data, data, e->n * 4);
    }
    if (c.left) {
        slm_fail(err, "%s: %zu unexpected bytes after the last of %u entries", path, c.left, count);
        goto fail;
    }
    free(buf);
    return 0;
truncated:
    slm_fail(err, "%s: truncated: file ends inside entry %u of %u (%ld bytes in all)", path, i, count, size);
fail:
    free(buf);
    ref_free(rf);
    return -1;
}

static const ref_entry *ref_find(const ref_file *rf, const char *name) {
    for (int i = 0; i < rf->n; i++)
        if (!strcmp(rf->e[i].name, name)) return &rf->e[i];
    return NULL;
}

// The named entry with that dtype and element count; a failed check and NULL otherwise.
static const ref_entry *ref_get(const ref_file *rf, const char *name, int dtype, size_t n) {
    const ref_entry *e = ref_find(rf, name);
    int ok = e && e->dtype == dtype && e->n == n;
    if (!ok)
        t_check(0, "reference entry %s: expected %s with %zu values, found %s", name, dtype == REF_F32 ? "f32" : "i32",
                n,
                !e                  ? "none"
                : e->dtype != dtype ? "the other dtype"
                                    : "another size");
    return ok ? e : NULL;
}

static int ref_int(const ref_file *rf, const char *name) {
    const ref_entry *e = ref_get(rf, name, REF_I32, 1);
    return e ? *(const int32_t *)e->data : 0;
}

static float ref_float(const ref_file *rf, const char *name) {
    const ref_entry *e = ref_get(rf, name, REF_F32, 1);
    return e ? *(const float *)e->data : 0.0f;
}

// ---- the reader refuses bad files ----

static void write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(data, 1, n, f);
        fclose(f);
    }
}

static void check_reader(const char *good) {
    ref_file rf;
    slm_err err;
    t_check(ref_load(&rf, good, &err) == 0, "reader: %s loads", good);
    if (!rf.n) return;
    FILE *f = fopen(good, "rb");
    fseek(f, 0, SEEK_END);
    size_t size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *bytes = malloc(size);
    size_t got = fread(bytes, 1, size, f);
    fclose(f);
    ref_free(&rf);

    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s/slm_hf_ref_XXXXXX", dir);
    int fd = mkstemp(tmp);
    t_check(fd >= 0 && got == size, "reader: scratch copy %s", tmp);
    if (fd < 0) {
        free(bytes);
        return;
    }
    close(fd);

    bytes[0] ^= 0xFF;  // wrong magic
    write_file(tmp, bytes, size);
    int rc = ref_load(&rf, tmp, &err);
    t_check(rc == -1 && strstr(err.msg, "magic"), "reader: wrong magic refused: %s", rc ? err.msg : "(loaded)");
    bytes[0] ^= 0xFF;

    write_file(tmp, bytes, size / 2);  // cut in the middle of an entry's data
    rc = ref_load(&rf, tmp, &err);
    t_check(rc == -1 && strstr(err.msg, "truncated"), "reader: truncated file refused: %s", rc ? err.msg : "(loaded)");

    write_file(tmp, bytes, 12);  // cut inside the header
    rc = ref_load(&rf, tmp, &err);
    t_check(rc == -1 && strstr(err.msg, "truncated"), "reader: truncated header refused: %s",
            rc ? err.msg : "(loaded)");

    remove(tmp);
    free(bytes);
}

// ---- the model against the reference ----

static void check_rel(const char *what, const float *got, const float *ref, size_t n, double tol) {
    double e = t_max_rel_err(got, ref, n, 1e-30);
    t_check(e <= tol, "%s: max rel err %.2e (tol %.2g)", what, e, tol);
}

// n values of the compute dtype at d (device) into host fp32.
static void compute_to_host(const slm_backend *be, float *host, const void *d, size_t n) {
    if (be->compute == SLM_F32) {
        be->to_host(host, d, n * sizeof(float));
        return;
    }
    uint16_t *b = malloc(n * sizeof *b);
    be->to_host(b, d, n * sizeof *b);
    for (size_t i = 0; i < n; i++) host[i] = slm_f32_from_bf16(b[i]);
    free(b);
}

// Copies every "weight.<name>" entry into the model; checks that the entries
// and the layout's tensors are the same set, with the same shapes.
static void load_weights(const ref_file *rf, slm_model *m, const char *tag) {
    int n_hf = 0, bad = 0;
    for (int i = 0; i < rf->n; i++) {
        const ref_entry *e = &rf->e[i];
        if (strncmp(e->name, "weight.", 7) != 0) continue;
        n_hf++;
        const slm_tensor *t = slm_param_find(&m->layout, e->name + 7);
        int rows = e->ndim >= 1 ? e->dims[0] : 1, cols = e->ndim == 2 ? e->dims[1] : 1;
        if (!t || e->dtype != REF_F32 || e->ndim < 1 || e->ndim > 2 || t->rows != rows || t->cols != cols) {
            t_check(0, "%s: HF tensor %s [%d,%d] has no slm tensor of that shape", tag, e->name + 7, rows, cols);
            bad++;
            continue;
        }
        m->be->to_device(m->params + t->offset, e->data, e->n * sizeof(float));
    }
    char key[96];
    for (int i = 0; i < m->layout.n_tensors; i++) {
        snprintf(key, sizeof key, "weight.%s", m->layout.tensors[i].name);
        if (!ref_find(rf, key)) {
            t_check(0, "%s: slm tensor %s is not in the HF model", tag, m->layout.tensors[i].name);
            bad++;
        }
    }
    t_check(!bad && n_hf == m->layout.n_tensors, "%s: %d HF tensors and %d slm tensors, each maps to the other", tag,
            n_hf, m->layout.n_tensors);
}

static void run(const ref_file *rf, const char *variant, slm_attention attn, const tolerances *tol) {
    char tag[64];
    snprintf(tag, sizeof tag, "%s %s %s %s", slm_backend_names[tol->backend], slm_dtype_name(tol->dtype), variant,
             slm_attention_names[attn]);
    slm_model_config c = {"custom"};
    c.n_layers = ref_int(rf, "config.n_layers");
    c.d_model = ref_int(rf, "config.d_model");
    c.n_heads = ref_int(rf, "config.n_heads");
    c.n_kv_heads = ref_int(rf, "config.n_kv_heads");
    c.ffn_dim = ref_int(rf, "config.ffn_dim");
    c.vocab = ref_int(rf, "config.vocab");
    c.seq_len = ref_int(rf, "config.seq_len");
    c.tie_embeddings = ref_int(rf, "config.tie_embeddings");
    c.norm_eps = ref_float(rf, "config.norm_eps");
    c.rope_theta = ref_float(rf, "config.rope_theta");
    slm_err err;
    if (slm_model_config_validate(&c, &err)) {
        t_check(0, "%s: config from the file: %s", tag, err.msg);
        return;
    }
    const ref_entry *in = ref_find(rf, "inputs");
    if (!in || in->ndim != 2) {
        t_check(0, "%s: reference has inputs [B,T]", tag);
        return;
    }
    const int B = in->dims[0], T = in->dims[1], N = B * T, V = c.vocab;
    const ref_entry *tg = ref_get(rf, "targets", REF_I32, (size_t)N);
    const ref_entry *logits_ref = ref_get(rf, "logits", REF_F32, (size_t)N * V);
    const ref_entry *steps_ref = ref_get(rf, "train.losses", REF_F32, (size_t)ref_int(rf, "adamw.steps"));
    if (in->dtype != REF_I32 || !tg || !logits_ref || !steps_ref) return;
    const int *tokens = in->data, *targets = tg->data;
    const float loss_ref = ref_float(rf, "loss");

    slm_backend *be = slm_backend_open(tol->backend, tol->dtype, &err);
    if (!be) {
        t_check(0, "%s: %s", tag, err.msg);
        return;
    }
    slm_model m;
    int ok = slm_model_init(&m, &c, be, 1, &err) == 0;
    t_check(ok, "%s: model init%s%s", tag, ok ? "" : ": ", ok ? "" : err.msg);
    if (!ok) {
        slm_backend_destroy(be);
        return;
    }
    load_weights(rf, &m, tag);
    slm_model_refresh_compute(&m);
    ok = slm_model_alloc_acts(&m, B, T, attn, &err) == 0;
    t_check(ok, "%s: activations for B=%d T=%d%s%s", tag, B, T, ok ? "" : ": ", ok ? "" : err.msg);
    if (!ok) {
        slm_model_free(&m);
        slm_backend_destroy(be);
        return;
    }

    // logits, from a forward without targets
    char what[160];
    float *host =
        malloc(m.layout.total > (size_t)N * V ? m.layout.total * sizeof(float) : (size_t)N * V * sizeof(float));
    slm_model_forward(&m, tokens, NULL, B, T, 0.0f);
    compute_to_host(be, host, m.logits, (size_t)N * V);
    snprintf(what, sizeof what, "%s: logits [%d,%d,%d]", tag, B, T, V);
    check_rel(what, host, logits_ref->data, (size_t)N * V, tol->logits);

    // loss and every gradient, from one training forward and backward
    slm_model_zero_grads(&m);
    float loss = slm_model_forward(&m, tokens, targets, B, T, 1.0f / (float)N);
    double dl = (double)loss - loss_ref;
    t_check(dl <= tol->loss * loss_ref && -dl <= tol->loss * loss_ref,
            "%s: loss %.7f vs HF %.7f (|diff| %.1e, tol %.2g·loss)", tag, loss, loss_ref, dl < 0 ? -dl : dl, tol->loss);
    slm_model_backward(&m);
    be->to_host(host, m.grads, m.layout.total * sizeof(float));
    for (int i = 0; i < m.layout.n_tensors; i++) {
        const slm_tensor *t = &m.layout.tensors[i];
        char key[96];
        snprintf(key, sizeof key, "grad.%s", t->name);
        const ref_entry *g = ref_get(rf, key, REF_F32, (size_t)t->rows * t->cols);
        if (!g) continue;
        snprintf(what, sizeof what, "%s: grad %s [%d,%d]", tag, t->name, t->rows, t->cols);
        check_rel(what, host + t->offset, g->data, g->n, tol->grad);
    }

    // AdamW on the same batch: zero, forward (record loss), backward, clip, step
    slm_adamw_config oc = {ref_float(rf, "adamw.lr"),           ref_float(rf, "adamw.beta1"),
                           ref_float(rf, "adamw.beta2"),        ref_float(rf, "adamw.eps"),
                           ref_float(rf, "adamw.weight_decay"), ref_float(rf, "adamw.grad_clip")};
    slm_optimizer st;
    const slm_owned own = slm_owned_model(&m);
    ok = slm_optimizer_init(&st, &m, &own, &oc, &err) == 0;
    t_check(ok, "%s: AdamW state%s%s", tag, ok ? "" : ": ", ok ? "" : err.msg);
    const float *losses_ref = steps_ref->data;
    for (size_t s = 0; ok && s < steps_ref->n; s++) {
        slm_model_zero_grads(&m);
        float l = slm_model_forward(&m, tokens, targets, B, T, 1.0f / (float)N);
        slm_model_backward(&m);
        slm_optimizer_clip(&st);
        slm_optimizer_step(&st, oc.lr);
        double rel = ((double)l - losses_ref[s]) / losses_ref[s];
        if (rel < 0) rel = -rel;
        t_check(rel <= tol->train, "%s: AdamW step %zu loss %.6f vs HF %.6f (rel err %.1e, tol %.2g)", tag, s + 1, l,
                losses_ref[s], rel, tol->train);
    }
    if (ok) slm_optimizer_free(&st);
    free(host);
    slm_model_free(&m);
    slm_backend_destroy(be);
}

int main(void) {
    static const char *const variants[] = {"untied", "tied"};
    char rel[64];
    snprintf(rel, sizeof rel, "tests/data/hf_llama_%s.bin", variants[0]);
    check_reader(t_source_path(rel));
    for (int v = 0; v < 2; v++) {
        snprintf(rel, sizeof rel, "tests/data/hf_llama_%s.bin", variants[v]);
        ref_file rf;
        slm_err err;
        if (ref_load(&rf, t_source_path(rel), &err)) {
            t_check(0, "%s", err.msg);
            continue;
        }
        t_check(ref_int(&rf, "config.tie_embeddings") == v, "%s: file says tie_embeddings=%d", variants[v], v);
        const tolerances *backends[3] = {&TOL_CPU, &TOL_CPU_BF16, &TOL_CUDA};
        for (int b = 0; b < 3; b++) {
            if (backends[b] == &TOL_CUDA && slm_cuda_devices() == 0) {
                printf("cuda %s: skipped: no GPU\n", variants[v]);
                continue;
            }
            run(&rf, variants[v], SLM_ATTN_VANILLA, backends[b]);
            slm_backend *be = slm_backend_open(backends[b]->backend, backends[b]->dtype, &err);
            int has_flash = be && be->ops->attention_flash_fwd != NULL;
            slm_backend_destroy(be);
            const int hd = ref_int(&rf, "config.d_model") / ref_int(&rf, "config.n_heads");
            if (!has_flash)
                printf("%s %s %s: skipped flash: not implemented\n", slm_backend_names[backends[b]->backend],
                       slm_dtype_name(backends[b]->dtype), variants[v]);
            else if (backends[b] == &TOL_CUDA && hd != 64 && hd != 128)
                printf("cuda %s: skipped flash: head dim %d (the CUDA flash kernels are built for 64 and 128)\n",
                       variants[v], hd);
            else
                run(&rf, variants[v], SLM_ATTN_FLASH, backends[b]);
        }
        ref_free(&rf);
    }
    return t_finish("test_hf_reference");
}
