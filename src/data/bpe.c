// bpe.c — training, encoding and the file of the byte-level BPE (bpe.h).
// Training keeps, for every adjacent pair, its count over the unique chunks
// (weighted by chunk frequency) and the chunks it occurs in; a merge rewrites
// only those chunks, recounting their pairs.
#include "data/bpe.h"

#include "core/atomic_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct slm_bpe {
    int n_merges;
    uint32_t *merges;       // [n_merges][2]: token 256+i = merges[2i] ++ merges[2i+1]
    unsigned char **bytes;  // [vocab] each token's bytes
    size_t *len;            // [vocab]
    // merge lookup: open addressing over (a,b) → new id
    uint64_t *mkeys;
    uint32_t *mvals;
    size_t mcap;
};

// ---- a u64 → u32 open-addressing map (keys never 0: stored as key+1) ----
typedef struct {
    uint64_t *keys;
    uint32_t *vals;
    size_t cap, n;
} u64map;

static uint64_t mix(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
}

static uint32_t *map_slot(u64map *m, uint64_t key, int *found) {
    size_t i = mix(key) & (m->cap - 1);
    while (m->keys[i] && m->keys[i] != key + 1) i = (i + 1) & (m->cap - 1);
    *found = m->keys[i] != 0;
    if (!*found) m->keys[i] = key + 1;
    return &m->vals[i];
}

static void map_init(u64map *m, size_t cap) {
    m->cap = cap;
    m->n = 0;
    m->keys = slm_xcalloc(cap, sizeof(uint64_t));
    m->vals = slm_xcalloc(cap, sizeof(uint32_t));
}

static void map_free(u64map *m) {
    free(m->keys);
    free(m->vals);
}

// Returns the value slot for key, inserting (value 0, *isnew = 1) if absent.
static uint32_t *map_get(u64map *m, uint64_t key, int *isnew) {
    if (2 * (m->n + 1) > m->cap) {
        u64map bigger;
        map_init(&bigger, m->cap * 2);
        for (size_t i = 0; i < m->cap; i++)
            if (m->keys[i]) {
                int f;
                *map_slot(&bigger, m->keys[i] - 1, &f) = m->vals[i];
                bigger.n++;
            }
        map_free(m);
        *m = bigger;
    }
    int found;
    uint32_t *v = map_slot(m, key, &found);
    if (!found) {
        *v = 0;
        m->n++;
    }
    *isnew = !found;
    return v;
}

// ---- pre-splitting ----
enum { CLS_SPACE, CLS_LETTER, CLS_DIGIT, CLS_PUNCT };
static int byte_class(unsigned char c) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') return CLS_SPACE;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80 || c == '\'') return CLS_LETTER;
    if (c >= '0' && c <= '9') return CLS_DIGIT;
    return CLS_PUNCT;
}

// Length of the chunk starting at text[i]: one leading space joins the run
// after it; other whitespace runs are chunks of their own.
static size_t chunk_len(const unsigned char *s, size_t n, size_t i) {
    size_t j = i;
    if (s[j] == ' ' && j + 1 < n && byte_class(s[j + 1]) != CLS_SPACE) j++;  // " word"
    int cls = byte_class(s[j]);
    if (cls != CLS_SPACE) {
        while (j < n && byte_class(s[j]) == cls) j++;
        return j - i;
    }
    // a whitespace run, leaving its last space to the word that follows
    while (j < n && byte_class(s[j]) == CLS_SPACE) j++;
    if (j < n && j - i > 1 && s[j - 1] == ' ') j--;
    return j - i;
}

// ---- the tokenizer's tables ----
static void add_merge_lookup(slm_bpe *t, uint32_t a, uint32_t b, uint32_t id) {
    uint64_t key = ((uint64_t)a << 32 | b) + 1;
    size_t i = mix(key - 1) & (t->mcap - 1);
    while (t->mkeys[i]) i = (i + 1) & (t->mcap - 1);
    t->mkeys[i] = key;
    t->mvals[i] = id;
}

static int64_t merge_lookup(const slm_bpe *t, uint32_t a, uint32_t b) {
    uint64_t key = ((uint64_t)a << 32 | b) + 1;
    size_t i = mix(key - 1) & (t->mcap - 1);
    while (t->mkeys[i]) {
        if (t->mkeys[i] == key) return t->mvals[i];
        i = (i + 1) & (t->mcap - 1);
    }
    return -1;
}

// Builds the byte table and the merge lookup from t->merges.
static slm_bpe *build(uint32_t *merges, int n_merges) {
    slm_bpe *t = slm_xcalloc(1, sizeof *t);
    int V = 256 + n_merges;
    t->n_merges = n_merges;
    t->merges = merges;
    t->bytes = slm_xcalloc((size_t)V, sizeof(unsigned char *));
    t->len = slm_xcalloc((size_t)V, sizeof(size_t));
    for (int i = 0; i < 256; i++) {
        t->bytes[i] = slm_xmalloc(1);
        t->bytes[i][0] = (unsigned char)i;
        t->len[i] = 1;
    }
    t->mcap = 16;
    while (t->mcap < 2 * (size_t)n_merges + 2) t->mcap *= 2;
    t->mkeys = slm_xcalloc(t->mcap, sizeof(uint64_t));
    t->mvals = slm_xcalloc(t->mcap, sizeof(uint32_t));
    for (int i = 0; i < n_merges; i++) {
        uint32_t a = merges[2 * i], b = merges[2 * i + 1], id = 256 + (uint32_t)i;
        t->len[id] = t->len[a] + t->len[b];
        t->bytes[id] = slm_xmalloc(t->len[id]);
        memcpy(t->bytes[id], t->bytes[a], t->len[a]);
        memcpy(t->bytes[id] + t->len[a], t->bytes[b], t->len[b]);
        add_merge_lookup(t, a, b, id);
    }
    return t;
}

void slm_bpe_free(slm_bpe *t) {
    if (!t) return;
    for (int i = 0; i < 256 + t->n_merges; i++) free(t->bytes[i]);
    free(t->bytes);
    free(t->len);
    free(t->merges);
    free(t->mkeys);
    free(t->mvals);
    free(t);
}

int slm_bpe_vocab_size(const slm_bpe *t) { return 256 + t->n_merges; }

const unsigned char *slm_bpe_token_bytes(const slm_bpe *t, uint32_t id, size_t *len) {
    if (id >= (uint32_t)slm_bpe_vocab_size(t)) {
        *len = 0;
        return NULL;
    }
    *len = t->len[id];
    return t->bytes[id];
}

// ---- training ----
typedef struct {
    uint32_t *sym;  // the chunk's current tokens
    int n;
    int64_t freq;
} word;

typedef struct {
    int64_t count;
    uint32_t a, b;
    int *where;  // words containing the pair (may repeat, may be stale)
    int n_where, cap_where;
} pair_stat;

typedef struct {
    u64map index;  // (a,b) → pair id
    pair_stat *p;
    int n, cap;
} pair_table;

static pair_stat *pair_get(pair_table *pt, uint32_t a, uint32_t b) {
    int isnew;
    uint32_t *v = map_get(&pt->index, (uint64_t)a << 32 | b, &isnew);
    if (isnew) {
        if (pt->n == pt->cap) {
            pt->cap = pt->cap ? 2 * pt->cap : 1024;
            pt->p = realloc(pt->p, (size_t)pt->cap * sizeof *pt->p);
            if (!pt->p) slm_die(SLM_EXIT_FAIL, "out of host memory training the tokenizer");
        }
        pt->p[pt->n] = (pair_stat){0, a, b, NULL, 0, 0};
        *v = (uint32_t)pt->n++;
    }
    return &pt->p[*v];
}

static void count_word(pair_table *pt, word *w, int wi, int sign) {
    for (int i = 0; i + 1 < w->n; i++) {
        pair_stat *ps = pair_get(pt, w->sym[i], w->sym[i + 1]);
        ps->count += sign * w->freq;
        if (sign > 0) {
            if (ps->n_where == ps->cap_where) {
                ps->cap_where = ps->cap_where ? 2 * ps->cap_where : 4;
                ps->where = realloc(ps->where, (size_t)ps->cap_where * sizeof(int));
                if (!ps->where) slm_die(SLM_EXIT_FAIL, "out of host memory training the tokenizer");
            }
            ps->where[ps->n_where++] = wi;
        }
    }
}

int slm_bpe_train(slm_bpe **out, const unsigned char *text, size_t n, int vocab_size, slm_err *err) {
    if (vocab_size < 256 || vocab_size > (1 << 20))
        return slm_fail(err, "tokenizer vocabulary must be between 256 and 1048576 (got %d)", vocab_size);
    // unique chunks and their frequencies
    u64map chunk_index;
    map_init(&chunk_index, 1024);
    word *words = NULL;
    int n_words = 0, cap_words = 0;
    for (size_t i = 0; i < n;) {
        size_t len = chunk_len(text, n, i);
        uint64_t h = 0xcbf29ce484222325ull;
        for (size_t j = 0; j < len; j++) h = (h ^ text[i + j]) * 0x100000001b3ull;
        h ^= len;
        for (;;) {  // resolve hash collisions by probing h+1, h+2, ...
            int isnew;
            uint32_t *v = map_get(&chunk_index, h, &isnew);
            if (isnew) {
                if (n_words == cap_words) {
                    cap_words = cap_words ? 2 * cap_words : 4096;
                    words = realloc(words, (size_t)cap_words * sizeof *words);
                    if (!words) slm_die(SLM_EXIT_FAIL, "out of host memory training the tokenizer");
                }
                word *w = &words[n_words];
                w->sym = slm_xmalloc(len * sizeof(uint32_t));
                for (size_t j = 0; j < len; j++) w->sym[j] = text[i + j];
                w->n = (int)len;
                w->freq = 1;
                *v = (uint32_t)n_words++;
                break;
            }
            word *w = &words[*v];
            int same = (size_t)w->n == len;
            for (size_t j = 0; same && j < len; j++) same = w->sym[j] == text[i + j];
            if (same) {
                w->freq++;
                break;
            }
            h++;
        }
        i += len;
    }
    map_free(&chunk_index);

    pair_table pt = {0};
    map_init(&pt.index, 1 << 16);
    for (int wi = 0; wi < n_words; wi++) count_word(&pt, &words[wi], wi, +1);

    int target = vocab_size - 256, n_merges = 0;
    uint32_t *merges = slm_xmalloc(2 * (size_t)(target > 0 ? target : 1) * sizeof(uint32_t));
    while (n_merges < target) {
        int best = -1;
        for (int i = 0; i < pt.n; i++) {
            pair_stat *p = &pt.p[i];
            if (p->count < 2) continue;
            if (best < 0 || p->count > pt.p[best].count ||
                (p->count == pt.p[best].count &&
                 ((uint64_t)p->a << 32 | p->b) < ((uint64_t)pt.p[best].a << 32 | pt.p[best].b)))
                best = i;
        }
        if (best < 0) break;
        uint32_t a = pt.p[best].a, b = pt.p[best].b, id = 256 + (uint32_t)n_merges;
        merges[2 * n_merges] = a;
        merges[2 * n_merges + 1] = b;
        n_merges++;
        // detach the list: count_word may grow pt.p and move it
        int *where = pt.p[best].where, n_where = pt.p[best].n_where;
        pt.p[best].where = NULL;
        pt.p[best].n_where = pt.p[best].cap_where = 0;
        for (int k = 0; k < n_where; k++) {
            word *w = &words[where[k]];
            int has = 0;
            for (int i = 0; i + 1 < w->n && !has; i++) has = w->sym[i] == a && w->sym[i + 1] == b;
            if (!has) continue;  // stale entry, or a repeat already rewritten
            count_word(&pt, w, where[k], -1);
            int m = 0;
            for (int i = 0; i < w->n; i++) {
                if (i + 1 < w->n && w->sym[i] == a && w->sym[i + 1] == b) {
                    w->sym[m++] = id;
                    i++;
                } else {
                    w->sym[m++] = w->sym[i];
                }
            }
            w->n = m;
            count_word(&pt, w, where[k], +1);
        }
        free(where);
    }
    for (int i = 0; i < pt.n; i++) free(pt.p[i].where);
    free(pt.p);
    map_free(&pt.index);
    for (int wi = 0; wi < n_words; wi++) free(words[wi].sym);
    free(words);
    *out = build(merges, n_merges);
    return 0;
}

// ---- encoding ----
// Merges inside one chunk by rank: always the applicable merge made earliest
// in training (lowest new id), as training made them.
static size_t encode_chunk(const slm_bpe *t, uint32_t *sym, size_t n) {
    for (;;) {
        int64_t best_id = -1;
        size_t at = 0;
        for (size_t i = 0; i + 1 < n; i++) {
            int64_t id = merge_lookup(t, sym[i], sym[i + 1]);
            if (id >= 0 && (best_id < 0 || id < best_id)) best_id = id, at = i;
        }
        if (best_id < 0) return n;
        uint32_t a = sym[at], b = sym[at + 1];
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            if (i + 1 < n && sym[i] == a && sym[i + 1] == b) {
                sym[m++] = (uint32_t)best_id;
                i++;
            } else {
                sym[m++] = sym[i];
            }
        }
        n = m;
    }
}

uint32_t *slm_bpe_encode(const slm_bpe *t, const unsigned char *text, size_t n, size_t *n_tokens) {
    uint32_t *out = slm_xmalloc((n ? n : 1) * sizeof(uint32_t));
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        size_t len = chunk_len(text, n, i);
        for (size_t j = 0; j < len; j++) out[k + j] = text[i + j];
        k += encode_chunk(t, out + k, len);
        i += len;
    }
    *n_tokens = k;
    return out;
}

unsigned char *slm_bpe_decode(const slm_bpe *t, const uint32_t *tokens, size_t n, size_t *n_bytes) {
    size_t total = 0;
    for (size_t i = 0; i < n; i++) total += tokens[i] < (uint32_t)slm_bpe_vocab_size(t) ? t->len[tokens[i]] : 0;
    unsigned char *out = slm_xmalloc(total ? total : 1), *p = out;
    for (size_t i = 0; i < n; i++)
        if (tokens[i] < (uint32_t)slm_bpe_vocab_size(t)) {
            memcpy(p, t->bytes[tokens[i]], t->len[tokens[i]]);
            p += t->len[tokens[i]];
        }
    *n_bytes = total;
    return out;
}

// ---- the file ----
static const char MAGIC[8] = {'S', 'L', 'M', 'B', 'P', 'E', '0', '1'};
enum { VERSION = 1 };

int slm_bpe_save(const slm_bpe *t, const char *path, slm_err *err) {
    slm_atomic_file af;
    if (slm_atomic_open(&af, path, "tokenizer", err)) return -1;
    FILE *f = af.f;
    uint32_t head[2] = {VERSION, (uint32_t)t->n_merges};
    int bad = fwrite(MAGIC, 1, 8, f) != 8 || fwrite(head, 4, 2, f) != 2 ||
              fwrite(t->merges, 4, 2 * (size_t)t->n_merges, f) != 2 * (size_t)t->n_merges;
    return slm_atomic_commit(&af, bad, err);
}

int slm_bpe_load(slm_bpe **out, const char *path, slm_err *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return slm_fail(err, "cannot open tokenizer %s", path);
    char magic[8];
    uint32_t head[2];
    if (fread(magic, 1, 8, f) != 8 || memcmp(magic, MAGIC, 8)) {
        fclose(f);
        return slm_fail(err, "%s: not a slm tokenizer (bad magic; make one with slm tokenize)", path);
    }
    if (fread(head, 4, 2, f) != 2) {
        fclose(f);
        return slm_fail(err, "%s: truncated tokenizer (header cut short)", path);
    }
    if (head[0] != VERSION || head[1] > (1u << 20) - 256) {
        fclose(f);
        return slm_fail(err, "%s: unsupported tokenizer (version %u, %u merges; expected version %d)", path, head[0],
                        head[1], VERSION);
    }
    size_t n = 2 * (size_t)head[1];
    uint32_t *merges = slm_xmalloc((n ? n : 1) * sizeof(uint32_t));
    size_t got = fread(merges, 4, n, f);
    int extra = fgetc(f) != EOF;
    fclose(f);
    if (got != n || extra) {
        free(merges);
        return slm_fail(err, "%s: %s tokenizer: the header says %u merges", path, got != n ? "truncated" : "corrupt",
                        head[1]);
    }
    for (uint32_t i = 0; i < head[1]; i++) {
        uint32_t bad = merges[2 * i] >= 256 + i ? merges[2 * i] : merges[2 * i + 1];
        if (bad < 256 + i) continue;
        free(merges);
        return slm_fail(err, "%s: corrupt tokenizer: merge %u refers to token %u, not made yet", path, i, bad);
    }
    *out = build(merges, (int)head[1]);
    return 0;
}
