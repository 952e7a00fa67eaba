// hf_config.c — reading config.json (hf_config.h): what slm.c would run
// differently is refused first, by name; then the shape, then RoPE from
// whichever dialect holds it, then slm.c's own shape rules.
#include "core/hf_config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/json_file.h"

typedef struct {
    const char *path;
    const cJSON *root;
    slm_err *err;
} reader;

static const cJSON *item(const cJSON *obj, const char *key) { return cJSON_GetObjectItemCaseSensitive(obj, key); }
static int is_set(const cJSON *it) { return it && !cJSON_IsNull(it); }

// A number of obj (labelled `in` in messages, NULL: the top level) into *out,
// or def when absent or null; with def NAN the key is required.
static int get_number(const reader *r, const cJSON *obj, const char *in, const char *key, double def, double *out) {
    const cJSON *it = item(obj, key);
    if (!is_set(it) && !isnan(def)) {
        *out = def;
        return 0;
    }
    if (!is_set(it)) return slm_fail(r->err, "%s: %s%s\"%s\" is missing", r->path, in ? in : "", in ? " " : "", key);
    if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble))
        return slm_fail(r->err, "%s: %s%s\"%s\" must be a number", r->path, in ? in : "", in ? " " : "", key);
    *out = it->valuedouble;
    return 0;
}

static int get_int(const reader *r, const cJSON *obj, const char *in, const char *key, double def, int *out) {
    double v = 0;
    if (get_number(r, obj, in, key, def, &v)) return -1;
    if (v != floor(v) || fabs(v) > 2e9)
        return slm_fail(r->err, "%s: %s%s\"%s\" must be an integer (got %g)", r->path, in ? in : "", in ? " " : "", key,
                        v);
    *out = (int)v;
    return 0;
}

static int is_true(const cJSON *it) { return cJSON_IsTrue(it) || (cJSON_IsNumber(it) && it->valuedouble != 0); }

static int check_architecture(const reader *r) {
    const cJSON *arch = item(r->root, "architectures"), *type = item(r->root, "model_type");
    if (is_set(arch)) {
        const cJSON *first = cJSON_IsArray(arch) ? cJSON_GetArrayItem(arch, 0) : NULL;
        if (cJSON_GetArraySize(arch) != 1 || !cJSON_IsString(first) || strcmp(first->valuestring, "LlamaForCausalLM"))
            return slm_fail(r->err, "%s: architectures %s is not [\"LlamaForCausalLM\"], the one model slm.c runs",
                            r->path, cJSON_IsString(first) ? first->valuestring : "(not a list of one name)");
    }
    if (is_set(type) && (!cJSON_IsString(type) || strcmp(type->valuestring, "llama")))
        return slm_fail(r->err, "%s: model_type %s is not \"llama\"", r->path,
                        cJSON_IsString(type) ? type->valuestring : "(not a string)");
    if (!is_set(arch) && !is_set(type))
        return slm_fail(r->err, "%s: neither architectures nor model_type says this is a LlamaForCausalLM", r->path);
    return 0;
}

// Every sliding-window spelling: Mistral's and Qwen's sliding_window, layer_types of sliding attention.
static int check_sliding(const reader *r) {
    const cJSON *window = item(r->root, "sliding_window"), *use = item(r->root, "use_sliding_window");
    if (is_set(window) && !(use && cJSON_IsFalse(use)))
        return slm_fail(r->err, "%s: sliding_window %g: slm.c's attention is full causal, with no sliding window",
                        r->path, cJSON_IsNumber(window) ? window->valuedouble : 0.0);
    if (is_true(use))
        return slm_fail(r->err, "%s: use_sliding_window is true: slm.c's attention is full causal", r->path);
    const cJSON *types = item(r->root, "layer_types");
    for (const cJSON *t = cJSON_IsArray(types) ? types->child : NULL; t; t = t->next)
        if (!cJSON_IsString(t) || strcmp(t->valuestring, "full_attention"))
            return slm_fail(r->err, "%s: layer_types holds \"%s\": slm.c's layers are all full causal attention",
                            r->path, cJSON_IsString(t) ? t->valuestring : "?");
    return 0;
}

// What slm.c's graph would compute differently, refused with the reason.
static int check_refusals(const reader *r) {
    const cJSON *act = item(r->root, "hidden_act"), *drop = item(r->root, "attention_dropout");
    if (check_architecture(r) || check_sliding(r)) return -1;
    if (is_set(act) && (!cJSON_IsString(act) || strcmp(act->valuestring, "silu")))
        return slm_fail(r->err, "%s: hidden_act %s is not silu (slm.c's MLP is SwiGLU)", r->path,
                        cJSON_IsString(act) ? act->valuestring : "(not a string)");
    if (is_true(item(r->root, "attention_bias")))
        return slm_fail(r->err, "%s: attention_bias is true: slm.c's attention projections have no bias", r->path);
    if (is_true(item(r->root, "mlp_bias")))
        return slm_fail(r->err, "%s: mlp_bias is true: slm.c's MLP projections have no bias", r->path);
    if (cJSON_IsNumber(drop) && drop->valuedouble != 0)
        return slm_fail(r->err, "%s: attention_dropout %g: slm.c trains without dropout", r->path, drop->valuedouble);
    if (is_set(item(r->root, "quantization_config")))
        return slm_fail(r->err, "%s: quantization_config: quantized weights are not supported (only F32, BF16, F16)",
                        r->path);
    return 0;
}

static int read_shape(const reader *r, slm_model_config *c) {
    const cJSON *o = r->root;
    int head_dim = 0;
    if (get_int(r, o, NULL, "hidden_size", NAN, &c->d_model) ||
        get_int(r, o, NULL, "intermediate_size", NAN, &c->ffn_dim) ||
        get_int(r, o, NULL, "num_hidden_layers", NAN, &c->n_layers) ||
        get_int(r, o, NULL, "num_attention_heads", NAN, &c->n_heads) ||
        get_int(r, o, NULL, "vocab_size", NAN, &c->vocab) ||
        get_int(r, o, NULL, "num_key_value_heads", c->n_heads, &c->n_kv_heads) ||
        get_int(r, o, NULL, "max_position_embeddings", 2048, &c->seq_len) ||
        get_int(r, o, NULL, "head_dim", 0, &head_dim))
        return -1;
    double eps = 0;
    if (get_number(r, o, NULL, "rms_norm_eps", 1e-6, &eps)) return -1;
    c->norm_eps = (float)eps;
    const cJSON *tie = item(o, "tie_word_embeddings");
    if (is_set(tie) && !cJSON_IsBool(tie))
        return slm_fail(r->err, "%s: \"tie_word_embeddings\" must be true or false", r->path);
    c->tie_embeddings = cJSON_IsTrue(tie);
    if (head_dim && c->n_heads > 0 && head_dim * c->n_heads != c->d_model)
        return slm_fail(r->err, "%s: head_dim %d is not hidden_size / num_attention_heads = %d / %d (slm.c derives it)",
                        r->path, head_dim, c->d_model, c->n_heads);
    return 0;
}

// Llama 3.1's scaling from rope (labelled `in`); the original context falls
// back to the top level's, then to max_position_embeddings, as in 5.x.
static int read_llama3(const reader *r, const cJSON *rope, const char *in, slm_model_config *c) {
    slm_rope_scaling *s = &c->rope_scaling;
    double factor = 0, lo = 0, hi = 0;
    int top_original = c->seq_len;
    if (get_number(r, rope, in, "factor", NAN, &factor) || get_number(r, rope, in, "low_freq_factor", NAN, &lo) ||
        get_number(r, rope, in, "high_freq_factor", NAN, &hi) ||
        get_int(r, r->root, NULL, "original_max_position_embeddings", c->seq_len, &top_original) ||
        get_int(r, rope, in, "original_max_position_embeddings", top_original, &s->original_max_pos))
        return -1;
    s->factor = (float)factor;
    s->low_freq_factor = (float)lo;
    s->high_freq_factor = (float)hi;
    return 0;
}

static int read_rope(const reader *r, slm_model_config *c) {
    const cJSON *scaling = item(r->root, "rope_scaling"), *params = item(r->root, "rope_parameters");
    const cJSON *rope = is_set(scaling) ? scaling : is_set(params) ? params : NULL;
    const char *in = rope == scaling ? "rope_scaling" : "rope_parameters";
    if (rope && !cJSON_IsObject(rope)) return slm_fail(r->err, "%s: %s must be an object", r->path, in);
    for (const cJSON *it = rope ? rope->child : NULL; it; it = it->next)
        if (cJSON_IsObject(it))
            return slm_fail(r->err, "%s: %s per layer type (\"%s\") is not supported", r->path, in, it->string);
    double theta = 0, partial = 1.0, part_in = 1.0;
    if (get_number(r, r->root, NULL, "rope_theta", 10000.0, &theta) ||
        (rope && get_number(r, rope, in, "rope_theta", theta, &theta)) ||
        get_number(r, r->root, NULL, "partial_rotary_factor", 1.0, &partial) ||
        (rope && get_number(r, rope, in, "partial_rotary_factor", partial, &part_in)))
        return -1;
    if ((rope ? part_in : partial) != 1.0)
        return slm_fail(r->err, "%s: partial_rotary_factor %g: slm.c rotates the whole head", r->path,
                        rope ? part_in : partial);
    c->rope_theta = (float)theta;
    memset(&c->rope_scaling, 0, sizeof c->rope_scaling);
    const cJSON *type = rope ? item(rope, "rope_type") : NULL;
    if (!type && rope) type = item(rope, "type");  // the older spelling
    if (type && !cJSON_IsString(type)) return slm_fail(r->err, "%s: %s \"rope_type\" must be a string", r->path, in);
    const char *kind = type ? type->valuestring : "default";
    if (!strcmp(kind, "llama3")) return read_llama3(r, rope, in, c);
    if (strcmp(kind, "default"))
        return slm_fail(r->err, "%s: %s type \"%s\" is not supported (slm.c implements default and llama3)", r->path,
                        in, kind);
    return 0;
}

int slm_hf_config_read(const char *path, const char *name, slm_model_config *out, slm_err *err) {
    cJSON *root = slm_json_read_file(path, "config.json", err);
    if (!root) return -1;
    reader r = {path, root, err};
    slm_model_config c = {{0}};
    snprintf(c.name, sizeof c.name, "%s", name);
    int rc = !cJSON_IsObject(root) ? slm_fail(err, "%s: not a JSON object", path)
             : check_refusals(&r) || read_shape(&r, &c) || read_rope(&r, &c) ? -1
                                                                             : 0;
    cJSON_Delete(root);
    slm_err why;
    if (rc == 0 && slm_model_config_validate(&c, &why))
        rc = slm_fail(err, "%s: not a model slm.c runs: %s", path, why.msg);
    if (rc == 0) *out = c;
    return rc;
}
