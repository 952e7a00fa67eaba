// hf_tokenizer.c — loading a tokenizer.json (hf_tokenizer.h): the file, the
// checks of its top-level fields, the parts (model, added tokens,
// pre-tokenizer), each token's bytes for decoding; and the encoding pipeline
// that chains the parts through callbacks.
#include "data/hf_tokenizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/json_file.h"
#include "data/byte_level.h"
#include "data/hf_added.h"
#include "data/hf_bpe.h"
#include "data/hf_json.h"
#include "data/hf_normalizer.h"
#include "data/hf_pretok.h"
#include "data/utf8.h"

struct slm_hftok {
    slm_hf_bpe *bpe;
    slm_hf_added *added;
    slm_hf_pretok *pre;
    int nfc;  // the normalizer: NFC, or none
    uint32_t vocab;
    unsigned char *bytes;  // every token's bytes, back to back
    size_t *at;            // (vocab + 1): token i is bytes[at[i] .. at[i+1]); SIZE_MAX at[i]: no token
    unsigned char *has;    // (vocab): whether id i names a token
};

uint32_t slm_hftok_vocab_size(const slm_hftok *t) { return t->vocab; }

void slm_hftok_free(slm_hftok *t) {
    if (!t) return;
    slm_hf_bpe_free(t->bpe);
    slm_hf_added_free(t->added);
    slm_hf_pretok_free(t->pre);
    free(t->bytes);
    free(t->at);
    free(t->has);
    free(t);
}

const unsigned char *slm_hftok_token_bytes(const slm_hftok *t, uint32_t id, size_t *len) {
    if (id >= t->vocab || !t->has[id]) {
        *len = 0;
        return NULL;
    }
    *len = t->at[id + 1] - t->at[id];
    return t->bytes + t->at[id];
}

// ---- loading ----
// The model is read first, so that a SentencePiece file (Llama-2's normalizer,
// no ByteLevel) is refused as such. The text of the file at path, or of path/tokenizer.json; NULL with err. *file: the
// file read.
static char *read_tokenizer_file(const char *path, char **file, slm_err *err) {
    struct stat st;
    size_t len = strlen(path);
    *file = slm_xmalloc(len + sizeof "/tokenizer.json");
    memcpy(*file, path, len + 1);
    if (!stat(path, &st) && S_ISDIR(st.st_mode)) memcpy(*file + len, "/tokenizer.json", sizeof "/tokenizer.json");
    char *text = slm_read_text_file(*file, "Hugging Face tokenizer", 256L << 20, err);
    if (!text) return NULL;
    const size_t n = strlen(text);
    for (size_t i = 0, step; i < n; i += step) {
        int valid;
        step = slm_utf8_seq_len((const unsigned char *)text, n, i, &valid);
        if (!valid) {
            slm_fail(err, "%s: not valid UTF-8 (at byte %zu): a tokenizer.json is UTF-8 JSON", *file, i);
            free(text);
            return NULL;
        }
    }
    return text;
}

static int check_version(const cJSON *root, const char *path, slm_err *err) {
    const slm_hfj at = {path, "tokenizer", err};
    const char *version;
    if (!cJSON_IsObject(root)) return slm_fail(err, "%s: not a tokenizer.json (not a JSON object)", path);
    if (slm_hfj_string(&at, root, "version", 0, &version)) return -1;
    if (version && strcmp(version, "1.0"))
        return slm_fail(err, "%s: tokenizer version \"%.20s\" is not supported (expected \"1.0\")", path, version);
    return 0;
}

// The decoder: none, or ByteLevel.
static int check_decoder(const cJSON *root, const char *path, slm_err *err) {
    const char *type;
    const cJSON *dec = slm_hfj_get(root, "decoder");
    const slm_hfj at_dec = {path, "decoder", err};
    if (dec && slm_hfj_type(&at_dec, dec, &type)) return -1;
    if (dec && strcmp(type, "ByteLevel"))
        return slm_fail(err, "%s: the decoder %.40s is not supported (only ByteLevel)", path, type);
    return 0;
}

// Each id's bytes: an added token's content or the vocabulary's spelling,
// mapped back to bytes when every character is in the byte-level alphabet
// (else its UTF-8 as it is), as the ByteLevel decoder does.
static void token_bytes_table(slm_hftok *t) {
    size_t total = 0;
    for (uint32_t id = 0; id < t->vocab; id++) {
        const char *s = slm_hf_added_content(t->added, id);
        if (!s) s = slm_hf_bpe_token(t->bpe, id);
        total += s ? strlen(s) : 0;
    }
    t->bytes = slm_xmalloc(total + 1);
    t->at = slm_xmalloc(((size_t)t->vocab + 1) * sizeof *t->at);
    t->has = slm_xcalloc((size_t)t->vocab + 1, 1);
    size_t k = 0;
    for (uint32_t id = 0; id < t->vocab; id++) {
        t->at[id] = k;
        const char *s = slm_hf_added_content(t->added, id);
        if (!s) s = slm_hf_bpe_token(t->bpe, id);
        if (!s) continue;
        const size_t n = strlen(s);
        long m = slm_byte_level_unmap((const unsigned char *)s, n, t->bytes + k);
        if (m < 0) memcpy(t->bytes + k, s, n);
        k += m < 0 ? n : (size_t)m;
        t->has[id] = 1;
    }
    t->at[t->vocab] = k;
}

int slm_hftok_load(slm_hftok **out, const char *path, slm_err *err) {
    char *file;
    char *text = read_tokenizer_file(path, &file, err);
    cJSON *root = text ? slm_json_parse_text(text, file, err) : NULL;
    free(text);
    slm_hftok *t = slm_xcalloc(1, sizeof *t);
    int ok = root && !check_version(root, file, err) &&
             (t->bpe = slm_hf_bpe_parse(slm_hfj_get(root, "model"), file, err)) &&
             !slm_hf_normalizer_parse(slm_hfj_get(root, "normalizer"), file, &t->nfc, err) &&
             !check_decoder(root, file, err) &&
             (t->pre = slm_hf_pretok_parse(slm_hfj_get(root, "pre_tokenizer"), file, err)) &&
             (t->added = slm_hf_added_parse(slm_hfj_get(root, "added_tokens"), t->bpe, t->nfc, file, err));
    cJSON_Delete(root);
    free(file);
    if (!ok) {
        slm_hftok_free(t);
        return -1;
    }
    const uint32_t a = slm_hf_added_id_limit(t->added), b = slm_hf_bpe_id_limit(t->bpe);
    t->vocab = a > b ? a : b;
    token_bytes_table(t);
    *out = t;
    return 0;
}

// ---- encoding ----
typedef struct {
    slm_hftok *t;
    slm_ids ids;
    slm_err *err;
} encoding;

static void on_piece(void *ctx, const unsigned char *bytes, size_t n) {
    encoding *e = ctx;
    slm_hf_bpe_encode(e->t->bpe, bytes, n, &e->ids);
}

static void on_token(void *ctx, uint32_t id) { slm_ids_push(&((encoding *)ctx)->ids, id); }

// Text between the normalized added tokens: the pre-tokenizer, then the model.
static int between_normalized(void *ctx, const unsigned char *s, size_t n) {
    encoding *e = ctx;
    return slm_hf_pretok_run(e->t->pre, s, n, on_piece, e, e->err);
}

// Text between the other added tokens: normalized, then the normalized ones are looked for there.
static int between_others(void *ctx, const unsigned char *s, size_t n) {
    encoding *e = ctx;
    const slm_hf_added_out out = {between_normalized, on_token, e};
    if (!e->t->nfc) return slm_hf_added_split(e->t->added, 1, s, n, &out);
    size_t m;
    unsigned char *normal = slm_hf_nfc(s, n, &m);
    int rc = slm_hf_added_split(e->t->added, 1, normal, m, &out);
    free(normal);
    return rc;
}

uint32_t *slm_hftok_encode(slm_hftok *t, const unsigned char *text, size_t n, size_t *n_tokens, size_t *n_repaired,
                           slm_err *err) {
    size_t n_fixed = n;
    unsigned char *fixed = slm_utf8_repair(text, n, &n_fixed, n_repaired);
    encoding e = {t, {0}, err};
    const slm_hf_added_out out = {between_others, on_token, &e};
    int rc = slm_hf_added_split(t->added, 0, fixed ? fixed : text, n_fixed, &out);
    free(fixed);
    if (rc) {
        free(e.ids.ids);
        return NULL;
    }
    *n_tokens = e.ids.n;
    return e.ids.ids ? e.ids.ids : slm_xmalloc(sizeof(uint32_t));
}
