// hf_bpe.c — tokenizer.json's BPE model (hf_bpe.h): the vocabulary (a map
// from spellings to ids, by hash), the merges (a map from pairs of ids to
// ranks), and the merge loop of tokenizers' Word::merge_all over a linked
// list of symbols and a min-heap of (rank, position).
#include "data/hf_bpe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/byte_level.h"
#include "data/hf_json.h"
#include "data/u64map.h"

enum { ID_LIMIT = 1 << 24 };

typedef struct {
    uint32_t rank, pos, id;
} merge_at;

struct slm_hf_bpe {
    char **tok;  // (id_limit): each id's spelling, or NULL
    uint32_t count, id_limit;
    slm_u64map by_hash;    // hash of a spelling → id (a taken hash moves on to hash+1, …)
    slm_u64map pair_rank;  // (a, b) → rank
    uint32_t *merge_id;    // (merges): the token each rank makes
    long byte_id[256];     // each byte's token, -1 when its character is not in the vocabulary
    long unk_id;           // -1: none
    int ignore_merges, fuse_unk;
    // scratch of encode
    uint32_t *sym;
    unsigned char *alive;
    long *prev, *next;
    merge_at *heap;
    unsigned char *chars;
    size_t cap_sym, cap_heap, n_heap, cap_chars;
};

static uint64_t fnv1a(const char *s, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
    return h;
}

long slm_hf_bpe_id_of(const slm_hf_bpe *m, const char *s, size_t n) {
    for (uint64_t h = fnv1a(s, n);; h++) {
        const uint32_t *id = slm_u64map_find(&m->by_hash, h);
        if (!id) return -1;
        const char *t = m->tok[*id];
        if (strlen(t) == n && !memcmp(t, s, n)) return *id;
    }
}

uint32_t slm_hf_bpe_count(const slm_hf_bpe *m) { return m->count; }
uint32_t slm_hf_bpe_id_limit(const slm_hf_bpe *m) { return m->id_limit; }
const char *slm_hf_bpe_token(const slm_hf_bpe *m, uint32_t id) { return id < m->id_limit ? m->tok[id] : NULL; }

void slm_hf_bpe_free(slm_hf_bpe *m) {
    if (!m) return;
    for (uint32_t i = 0; m->tok && i < m->id_limit; i++) free(m->tok[i]);
    free(m->tok);
    slm_u64map_free(&m->by_hash);
    slm_u64map_free(&m->pair_rank);
    free(m->merge_id);
    free(m->sym);
    free(m->alive);
    free(m->prev);
    free(m->next);
    free(m->heap);
    free(m->chars);
    free(m);
}

// ---- reading the JSON ----
// The options that change nothing here, or are refused.
static int read_options(slm_hf_bpe *m, const cJSON *model, const slm_hfj *at, const char **unk) {
    const char *type, *prefix, *suffix;
    int fallback;
    if (slm_hfj_type(at, model, &type)) return -1;
    if (strcmp(type, "BPE"))
        return slm_fail(at->err, "%s: the model is %.40s%s: not supported, only byte-level BPE (the GPT-2 family)",
                        at->path, type,
                        !strcmp(type, "Unigram")     ? " (SentencePiece)"
                        : !strcmp(type, "WordPiece") ? " (BERT's)"
                                                     : "");
    if (slm_hfj_bool(at, model, "byte_fallback", 0, &fallback)) return -1;
    if (fallback)
        return slm_fail(at->err,
                        "%s: the model is a SentencePiece BPE (byte_fallback, as Llama-2 and TinyLlama): "
                        "not supported, only byte-level BPE (the GPT-2 family)",
                        at->path);
    const cJSON *dropout = slm_hfj_get(model, "dropout");
    if (dropout && !(cJSON_IsNumber(dropout) && dropout->valuedouble == 0))
        return slm_fail(at->err, "%s: model.dropout must be null or 0 (a random dropout cannot be matched)", at->path);
    if (slm_hfj_string(at, model, "continuing_subword_prefix", 0, &prefix) ||
        slm_hfj_string(at, model, "end_of_word_suffix", 0, &suffix) || slm_hfj_string(at, model, "unk_token", 0, unk) ||
        slm_hfj_bool(at, model, "fuse_unk", 0, &m->fuse_unk) ||
        slm_hfj_bool(at, model, "ignore_merges", 0, &m->ignore_merges))
        return -1;
    if ((prefix && *prefix) || (suffix && *suffix))
        return slm_fail(at->err, "%s: model.%s is set: not supported in a byte-level BPE", at->path,
                        prefix && *prefix ? "continuing_subword_prefix" : "end_of_word_suffix");
    return 0;
}

static int read_vocab(slm_hf_bpe *m, const cJSON *vocab, const slm_hfj *at) {
    if (!cJSON_IsObject(vocab)) return slm_fail(at->err, "%s: model.vocab must be an object", at->path);
    m->id_limit = 0;
    for (const cJSON *e = vocab->child; e; e = e->next) {
        char what[120];
        snprintf(what, sizeof what, "model.vocab[\"%.40s\"]", e->string);
        unsigned id;
        if (slm_hfj_index(at, e, what, ID_LIMIT, &id)) return -1;
        if (id >= m->id_limit) m->id_limit = id + 1;
        m->count++;
    }
    m->tok = slm_xcalloc(m->id_limit ? m->id_limit : 1, sizeof *m->tok);
    slm_u64map_init(&m->by_hash, 1024);
    for (const cJSON *e = vocab->child; e; e = e->next) {
        const uint32_t id = (uint32_t)e->valuedouble;
        if (m->tok[id])
            return slm_fail(at->err, "%s: model.vocab gives id %u to both \"%.40s\" and \"%.40s\"", at->path, id,
                            m->tok[id], e->string);
        const size_t n = strlen(e->string);
        if (slm_hf_bpe_id_of(m, e->string, n) >= 0)
            return slm_fail(at->err, "%s: model.vocab lists \"%.40s\" twice", at->path, e->string);
        for (uint64_t h = fnv1a(e->string, n);; h++) {
            int isnew;
            uint32_t *slot = slm_u64map_get(&m->by_hash, h, &isnew);
            if (isnew) {
                *slot = id;
                break;
            }
        }
        m->tok[id] = strdup(e->string);
    }
    return 0;
}

// The sides of merge e, "a b" (one space between) or ["a", "b"]; 1 for a
// "#version" line, which tokenizers skips; 0, or -1 with err.
static int merge_sides(const cJSON *e, const slm_hfj *at, int i, const char *side[2], size_t len[2]) {
    if (cJSON_IsString(e)) {
        const char *s = e->valuestring, *space = strchr(s, ' ');
        if (!strncmp(s, "#version", 8)) return 1;
        if (!space || strchr(space + 1, ' '))
            return slm_fail(at->err, "%s: model.merges[%d] \"%.40s\" must be two tokens with one space between",
                            at->path, i, s);
        side[0] = s, len[0] = (size_t)(space - s);
        side[1] = space + 1, len[1] = strlen(space + 1);
        return 0;
    }
    const cJSON *a = cJSON_GetArrayItem(e, 0), *b = cJSON_GetArrayItem(e, 1);
    if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) != 2 || !cJSON_IsString(a) || !cJSON_IsString(b))
        return slm_fail(at->err, "%s: model.merges[%d] must be a string \"a b\" or a pair [\"a\", \"b\"]", at->path, i);
    side[0] = a->valuestring, len[0] = strlen(a->valuestring);
    side[1] = b->valuestring, len[1] = strlen(b->valuestring);
    return 0;
}

// The id of s[0..n) for merge i, or -1 with err.
static long merge_token(const slm_hf_bpe *m, const slm_hfj *at, int i, const char *s, size_t n) {
    long id = slm_hf_bpe_id_of(m, s, n);
    if (id < 0)
        slm_fail(at->err, "%s: model.merges[%d] needs \"%.*s\", which is not in the vocabulary", at->path, i,
                 (int)(n < 40 ? n : 40), s);
    return id;
}

// Merge e (the i-th entry) at *rank; 0, or -1 with err. both: scratch for the concatenation.
static int add_merge(slm_hf_bpe *m, const cJSON *e, int i, uint32_t *rank, char **both, const slm_hfj *at) {
    const char *side[2] = {0};
    size_t len[2] = {0};
    int r = merge_sides(e, at, i, side, len);
    if (r) return r < 0 ? -1 : 0;
    *both = slm_xrealloc(*both, len[0] + len[1]);
    memcpy(*both, side[0], len[0]);
    memcpy(*both + len[0], side[1], len[1]);
    long a = merge_token(m, at, i, side[0], len[0]), b = a < 0 ? -1 : merge_token(m, at, i, side[1], len[1]);
    long ab = b < 0 ? -1 : merge_token(m, at, i, *both, len[0] + len[1]);
    if (ab < 0) return -1;
    int isnew;
    *slm_u64map_get(&m->pair_rank, (uint64_t)a << 32 | (uint64_t)b, &isnew) = *rank;  // a later duplicate wins
    m->merge_id[(*rank)++] = (uint32_t)ab;
    return 0;
}

static int read_merges(slm_hf_bpe *m, const cJSON *merges, const slm_hfj *at) {
    if (!cJSON_IsArray(merges)) return slm_fail(at->err, "%s: model.merges must be a list", at->path);
    m->merge_id = slm_xmalloc((size_t)cJSON_GetArraySize(merges) * sizeof *m->merge_id);
    slm_u64map_init(&m->pair_rank, 1024);
    char *both = NULL;
    uint32_t rank = 0;
    int i = 0, rc = 0;
    for (const cJSON *e = merges->child; e && !rc; e = e->next, i++) rc = add_merge(m, e, i, &rank, &both, at);
    free(both);
    return rc;
}

// Each byte's token, and unk_token's.
static int find_bytes(slm_hf_bpe *m, const char *unk, const slm_hfj *at) {
    for (int b = 0; b < 256; b++) {
        unsigned char c = (unsigned char)b, chars[2];
        m->byte_id[b] = slm_hf_bpe_id_of(m, (const char *)chars, slm_byte_level_map(&c, 1, chars));
    }
    m->unk_id = unk ? slm_hf_bpe_id_of(m, unk, strlen(unk)) : -1;
    if (unk && m->unk_id < 0)
        return slm_fail(at->err, "%s: model.unk_token \"%.40s\" is not in the vocabulary", at->path, unk);
    return 0;
}

slm_hf_bpe *slm_hf_bpe_parse(const cJSON *model, const char *path, slm_err *err) {
    const slm_hfj at = {path, "model", err};
    if (!model) {
        slm_fail(err, "%s: the model is missing (\"model\": {\"type\": \"BPE\", ...})", path);
        return NULL;
    }
    slm_hf_bpe *m = slm_xcalloc(1, sizeof *m);
    const char *unk;
    if (read_options(m, model, &at, &unk) || read_vocab(m, slm_hfj_get(model, "vocab"), &at) ||
        read_merges(m, slm_hfj_get(model, "merges"), &at) || find_bytes(m, unk, &at)) {
        slm_hf_bpe_free(m);
        return NULL;
    }
    return m;
}

// ---- encoding ----
static int heap_before(merge_at x, merge_at y) { return x.rank != y.rank ? x.rank < y.rank : x.pos < y.pos; }

static void heap_push(slm_hf_bpe *m, merge_at e) {
    size_t i = m->n_heap++;
    for (; i > 0 && heap_before(e, m->heap[(i - 1) / 2]); i = (i - 1) / 2) m->heap[i] = m->heap[(i - 1) / 2];
    m->heap[i] = e;
}

static merge_at heap_pop(slm_hf_bpe *m) {
    merge_at top = m->heap[0], last = m->heap[--m->n_heap];
    size_t i = 0, n = m->n_heap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && heap_before(m->heap[c + 1], m->heap[c])) c++;
        if (!heap_before(m->heap[c], last)) break;
        m->heap[i] = m->heap[c];
        i = c;
    }
    if (n) m->heap[i] = last;
    return top;
}

// The rank of the pair at pos and the symbol after it, or NULL.
static const uint32_t *rank_at(const slm_hf_bpe *m, long pos) {
    return slm_u64map_find(&m->pair_rank, (uint64_t)m->sym[pos] << 32 | m->sym[m->next[pos]]);
}

static void push_pair(slm_hf_bpe *m, long pos) {
    const uint32_t *rank = rank_at(m, pos);
    if (rank) heap_push(m, (merge_at){*rank, (uint32_t)pos, m->merge_id[*rank]});
}

static void make_room(slm_hf_bpe *m, size_t n) {
    if (n <= m->cap_sym) return;
    m->cap_sym = n > 2 * m->cap_sym ? n : 2 * m->cap_sym;
    m->sym = slm_xrealloc(m->sym, m->cap_sym * sizeof *m->sym);
    m->alive = slm_xrealloc(m->alive, m->cap_sym);
    m->prev = slm_xrealloc(m->prev, m->cap_sym * sizeof *m->prev);
    m->next = slm_xrealloc(m->next, m->cap_sym * sizeof *m->next);
    m->heap = slm_xrealloc(m->heap, 3 * m->cap_sym * sizeof *m->heap);  // n pairs, then 2 per merge
    m->chars = slm_xrealloc(m->chars, 2 * m->cap_sym);
}

// The starting symbols of the piece (merge_word): each byte's token; bytes
// without one become unk_token (one for a run, with fuse_unk) or nothing.
static size_t first_symbols(slm_hf_bpe *m, const unsigned char *bytes, size_t n) {
    size_t k = 0;
    int unk_open = 0;  // the last symbol is an unk that the next unknown byte joins
    for (size_t i = 0; i < n; i++) {
        long id = m->byte_id[bytes[i]];
        if (id < 0 && m->unk_id < 0) continue;
        if (id < 0 && unk_open) continue;
        m->sym[k++] = (uint32_t)(id < 0 ? m->unk_id : id);
        unk_open = id < 0 && m->fuse_unk;
    }
    for (size_t i = 0; i < k; i++) {
        m->alive[i] = 1;
        m->prev[i] = (long)i - 1;
        m->next[i] = i + 1 < k ? (long)i + 1 : -1;
    }
    return k;
}

static void merge_all(slm_hf_bpe *m, size_t k) {
    m->n_heap = 0;
    for (size_t i = 0; i + 1 < k; i++) push_pair(m, (long)i);
    while (m->n_heap) {
        const merge_at top = heap_pop(m);
        const long pos = top.pos, right = m->next[pos];
        if (!m->alive[pos] || right < 0) continue;
        const uint32_t *rank = rank_at(m, pos);
        if (!rank || m->merge_id[*rank] != top.id) continue;  // the pair has changed since it was pushed
        m->sym[pos] = top.id;
        m->next[pos] = m->next[right];
        m->alive[right] = 0;
        if (m->next[pos] >= 0) m->prev[m->next[pos]] = pos;
        if (m->prev[pos] >= 0) push_pair(m, m->prev[pos]);
        if (m->next[pos] >= 0) push_pair(m, pos);
    }
}

void slm_hf_bpe_encode(slm_hf_bpe *m, const unsigned char *bytes, size_t n, slm_ids *out) {
    make_room(m, n);
    if (m->ignore_merges) {
        long id = slm_hf_bpe_id_of(m, (const char *)m->chars, slm_byte_level_map(bytes, n, m->chars));
        if (id >= 0) {
            slm_ids_push(out, (uint32_t)id);
            return;
        }
    }
    size_t k = first_symbols(m, bytes, n);
    merge_all(m, k);
    for (size_t i = 0; i < k; i++)
        if (m->alive[i]) slm_ids_push(out, m->sym[i]);
}
