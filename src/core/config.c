#include "core/config.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const slm_preset_names[] = {"tiny", "small", "100m", "500m", "1b", "2b", NULL};

int slm_llama_ffn_dim(int d_model) {
    int f = (8 * d_model + 2) / 3;
    return (f + 255) / 256 * 256;
}

// name, layers, d_model, heads, kv heads, vocab, seq_len
static const struct {
    const char *name;
    int n_layers, d_model, n_heads, n_kv_heads, vocab, seq_len;
} presets[] = {
    // CPU-sized: small vocabularies (trained by `slm tokenize`), short sequences.
    {"tiny", 4, 128, 4, 2, 512, 256},
    {"small", 4, 384, 6, 6, 4096, 256},
    // The study's sizes: head dim 64, vocab 32000, sequence 1024, untied head.
    {"100m", 12, 640, 10, 10, 32000, 1024},
    {"500m", 20, 1280, 20, 20, 32000, 1024},
    {"1b", 16, 2048, 32, 32, 32000, 1024},
    {"2b", 24, 2560, 40, 40, 32000, 1024},
};

int slm_preset(const char *name, slm_model_config *c, slm_err *err) {
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++) {
        if (strcmp(presets[i].name, name) != 0) continue;
        memset(c, 0, sizeof *c);
        snprintf(c->name, sizeof c->name, "%s", name);
        c->n_layers = presets[i].n_layers;
        c->d_model = presets[i].d_model;
        c->n_heads = presets[i].n_heads;
        c->n_kv_heads = presets[i].n_kv_heads;
        c->ffn_dim = slm_llama_ffn_dim(c->d_model);
        c->vocab = presets[i].vocab;
        c->seq_len = presets[i].seq_len;
        c->rope_theta = 10000.0f;
        c->norm_eps = 1e-5f;
        c->tie_embeddings = 0;
        return 0;
    }
    return slm_fail(err, "unknown model '%s' (expected tiny, small, 100m, 500m, 1b, 2b or a .json file)", name);
}

// Each reader leaves *out as it is when the key is absent, and refuses a value of another JSON type
// (true is not 1, 1 is not true), naming the field and the type expected.
static int json_int(const cJSON *root, const char *key, int *out, slm_err *err, const char *path) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!it) return 0;
    if (!cJSON_IsNumber(it) || it->valuedouble != floor(it->valuedouble) || fabs(it->valuedouble) > 2e9)
        return slm_fail(err, "%s: \"%s\" must be an integer (a JSON number)", path, key);
    *out = (int)it->valuedouble;
    return 0;
}

static int json_bool(const cJSON *root, const char *key, int *out, slm_err *err, const char *path) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!it) return 0;
    if (!cJSON_IsBool(it)) return slm_fail(err, "%s: \"%s\" must be true or false (a JSON boolean)", path, key);
    *out = cJSON_IsTrue(it);
    return 0;
}

static int json_float(const cJSON *root, const char *key, float *out, slm_err *err, const char *path) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!it) return 0;
    if (!cJSON_IsNumber(it)) return slm_fail(err, "%s: \"%s\" must be a number (a JSON number)", path, key);
    *out = (float)it->valuedouble;
    return 0;
}

int slm_model_config_read_json(const char *path, slm_model_config *c, slm_err *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return slm_fail(err, "cannot open model file %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (n < 0 || n > (1 << 20)) {
        fclose(f);
        return slm_fail(err, "%s: not a model file (expected a small JSON object)", path);
    }
    char *text = slm_xmalloc((size_t)n + 1);
    size_t got = fread(text, 1, (size_t)n, f);
    fclose(f);
    text[got] = 0;
    int rc = slm_model_config_parse_json(text, path, c, err);
    free(text);
    return rc;
}

int slm_model_config_parse_json(const char *text, const char *path, slm_model_config *c, slm_err *err) {
    cJSON *root = cJSON_Parse(text);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return slm_fail(err, "%s: not valid JSON (expected an object with n_layers, d_model, ...)", path);
    }
    static const char *known[] = {"name",  "n_layers", "d_model",    "n_heads",  "n_kv_heads",     "ffn_dim",
                                  "vocab", "seq_len",  "rope_theta", "norm_eps", "tie_embeddings", NULL};
    int rc = 0;
    for (const cJSON *it = root->child; it && rc == 0; it = it->next) {
        int ok = 0;
        for (int i = 0; known[i]; i++) ok |= strcmp(known[i], it->string) == 0;
        if (!ok) rc = slm_fail(err, "%s: unknown field \"%s\"", path, slm_quote(it->string).text);
    }
    if (rc == 0) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(root, "name");
        snprintf(c->name, sizeof c->name, "%s", cJSON_IsString(name) ? name->valuestring : "custom");
        if (name && !cJSON_IsString(name)) rc = slm_fail(err, "%s: \"name\" must be a string", path);
        if (rc || json_int(root, "n_layers", &c->n_layers, err, path) ||
            json_int(root, "d_model", &c->d_model, err, path) || json_int(root, "n_heads", &c->n_heads, err, path) ||
            json_int(root, "n_kv_heads", &c->n_kv_heads, err, path) ||
            json_int(root, "ffn_dim", &c->ffn_dim, err, path) || json_int(root, "vocab", &c->vocab, err, path) ||
            json_int(root, "seq_len", &c->seq_len, err, path) ||
            json_float(root, "rope_theta", &c->rope_theta, err, path) ||
            json_float(root, "norm_eps", &c->norm_eps, err, path) ||
            json_bool(root, "tie_embeddings", &c->tie_embeddings, err, path))
            rc = -1;
    }
    cJSON_Delete(root);
    return rc;
}

// The largest shape validation accepts; within them no count below overflows.
enum { MAX_LAYERS = 65536, MAX_D_MODEL = 1 << 20, MAX_FFN = 1 << 22, MAX_VOCAB = 1 << 24, MAX_SEQ = 1 << 24 };

static int rope_scaling_validate(const slm_rope_scaling *s, slm_err *err) {
    if (s->factor == 0) return 0;
    if (!(s->factor > 0 && isfinite(s->factor)))
        return slm_fail(err, "RoPE scaling factor must be positive and finite (got %g)", s->factor);
    if (!(s->low_freq_factor > 0 && s->high_freq_factor > s->low_freq_factor && isfinite(s->high_freq_factor)))
        return slm_fail(err, "RoPE scaling needs 0 < low_freq_factor < high_freq_factor (got %g and %g)",
                        s->low_freq_factor, s->high_freq_factor);
    if (s->original_max_pos < 1)
        return slm_fail(err, "RoPE scaling's original_max_position_embeddings must be positive (got %d)",
                        s->original_max_pos);
    return 0;
}

int slm_model_config_validate(const slm_model_config *c, slm_err *err) {
    if (c->n_layers < 1) return slm_fail(err, "n_layers must be at least 1 (got %d)", c->n_layers);
    if (c->d_model < 1) return slm_fail(err, "d_model must be positive (got %d)", c->d_model);
    if (c->n_heads < 1) return slm_fail(err, "n_heads must be positive (got %d)", c->n_heads);
    if (c->d_model % c->n_heads) return slm_fail(err, "n_heads (%d) must divide d_model (%d)", c->n_heads, c->d_model);
    if (c->n_kv_heads < 1 || c->n_heads % c->n_kv_heads)
        return slm_fail(err, "n_kv_heads (%d) must divide n_heads (%d)", c->n_kv_heads, c->n_heads);
    if (slm_head_dim(c) % 2)
        return slm_fail(err, "head dim d_model/n_heads = %d must be even for RoPE", slm_head_dim(c));
    if (c->ffn_dim < 1) return slm_fail(err, "ffn_dim must be positive (got %d)", c->ffn_dim);
    if (c->vocab < 2) return slm_fail(err, "vocab must be at least 2 (got %d)", c->vocab);
    if (c->seq_len < 1) return slm_fail(err, "seq_len must be positive (got %d)", c->seq_len);
    if (!(c->rope_theta > 0)) return slm_fail(err, "rope_theta must be positive (got %g)", c->rope_theta);
    if (!(c->norm_eps > 0 && c->norm_eps < 1)) return slm_fail(err, "norm_eps must be in (0, 1) (got %g)", c->norm_eps);
    if (c->tie_embeddings != 0 && c->tie_embeddings != 1)
        return slm_fail(err, "tie_embeddings must be 0 or 1 (got %d)", c->tie_embeddings);
    // bounds before any product can overflow: the checks above and below trust them
    if (c->n_layers > MAX_LAYERS || c->d_model > MAX_D_MODEL || c->ffn_dim > MAX_FFN || c->vocab > MAX_VOCAB ||
        c->seq_len > MAX_SEQ)
        return slm_fail(err,
                        "model shape too large (at most 65536 layers, d_model 2^20, ffn 2^22, vocab 2^24, seq 2^24)");
    double params = (double)c->n_layers * (4.0 * c->d_model * c->d_model + 3.0 * c->d_model * c->ffn_dim) +
                    2.0 * c->vocab * c->d_model;
    if (params > 1e12) return slm_fail(err, "model too large: about %.3g parameters (at most 1e12)", params);
    if (!isfinite(c->rope_theta)) return slm_fail(err, "rope_theta must be finite");
    return rope_scaling_validate(&c->rope_scaling, err);
}

void slm_model_config_describe(const slm_model_config *c, char *out, size_t len) {
    const slm_rope_scaling *s = &c->rope_scaling;
    int n =
        snprintf(out, len, "layers %d, d_model %d, heads %d/%d, ffn %d, vocab %d, seq %d, tied %d, theta %g, eps %g",
                 c->n_layers, c->d_model, c->n_heads, c->n_kv_heads, c->ffn_dim, c->vocab, c->seq_len,
                 c->tie_embeddings, c->rope_theta, c->norm_eps);
    if (s->factor && n > 0 && (size_t)n < len)
        snprintf(out + n, len - (size_t)n, ", llama3 RoPE scaling (factor %g, low %g, high %g, original %d)", s->factor,
                 s->low_freq_factor, s->high_freq_factor, s->original_max_pos);
}

// A shape the counts below can count: its sizes within validation's bounds
// and its heads no more than its width (a record of a run that could not run
// may hold any shape).
static int countable(const slm_model_config *c) {
    return c->n_layers >= 1 && c->n_layers <= MAX_LAYERS && c->d_model >= 1 && c->d_model <= MAX_D_MODEL &&
           c->n_heads >= 1 && c->n_heads <= c->d_model && c->n_kv_heads >= 1 && c->n_kv_heads <= c->n_heads &&
           c->ffn_dim >= 1 && c->ffn_dim <= MAX_FFN && c->vocab >= 1 && c->vocab <= MAX_VOCAB;
}

static int64_t block_matrix_params(const slm_model_config *c) {
    int64_t C = c->d_model, kv = (int64_t)c->n_kv_heads * slm_head_dim(c);
    return C * C + 2 * kv * C + C * C + 3 * C * (int64_t)c->ffn_dim;
}

int64_t slm_param_count(const slm_model_config *c) {
    if (!countable(c)) return -1;
    int64_t C = c->d_model, V = c->vocab;
    int64_t n = V * C;                                    // embedding
    n += c->n_layers * (block_matrix_params(c) + 2 * C);  // blocks and their two norms
    n += C + (c->tie_embeddings ? 0 : V * C);             // final norm, head
    return n;
}

int64_t slm_matmul_param_count(const slm_model_config *c) {
    if (!countable(c)) return -1;
    return c->n_layers * block_matrix_params(c) + (int64_t)c->vocab * c->d_model;
}

double slm_flops_per_token(const slm_model_config *c, int T) {
    if (!countable(c)) return NAN;
    return 6.0 * (double)slm_matmul_param_count(c) + 12.0 * c->n_layers * c->n_heads * (double)slm_head_dim(c) * T;
}
