// bpe.c — training, encoding and the file of the byte-level BPE (bpe.h).
// Training works on the unique chunks of the text, each weighted by how often
// it occurs. It keeps, for every adjacent pair, its count and the chunks it
// occurs in, and a max-heap of pairs by count; a merge rewrites only the
// chunks that hold the pair and updates the counts of the pairs they touch.
// Heap entries are not removed when a count changes: a newer entry is pushed
// and the old one is skipped when it surfaces (its count no longer matches).
#include "data/bpe.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/atomic_file.h"
#include "data/le.h"
#include "data/u64map.h"

// Longest chunk: bounds the work per chunk (encoding is quadratic in it) on
// text without spaces, such as a long run of letters or binary data.
enum { MAX_CHUNK_BYTES = SLM_BPE_MAX_CHUNK };

static uint64_t pair_key(uint32_t a, uint32_t b) { return (uint64_t)a << 32 | b; }

// ---- pre-splitting ----
// Bytes >= 0x80 count as letters so that UTF-8 sequences stay together; the
// apostrophe too, so that "don't" is one chunk.
int slm_bpe_byte_class(unsigned char c) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') return SLM_BPE_SPACE;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80 || c == '\'') return SLM_BPE_LETTER;
    if (c >= '0' && c <= '9') return SLM_BPE_DIGIT;
    return SLM_BPE_PUNCT;
}

// Length of the chunk that starts at s[i]: one leading space joins the run
// after it (" word"); a whitespace run leaves its last space to what follows.
// A run longer than MAX_CHUNK_BYTES is cut into chunks of that length.
static size_t chunk_len(const unsigned char *s, size_t n, size_t i) {
    const size_t limit = n - i < MAX_CHUNK_BYTES ? n : i + MAX_CHUNK_BYTES;
    size_t j = i;
    if (s[j] == ' ' && j + 1 < limit && slm_bpe_byte_class(s[j + 1]) != SLM_BPE_SPACE) j++;
    int cls = slm_bpe_byte_class(s[j]);
    while (j < limit && slm_bpe_byte_class(s[j]) == cls) j++;
    if (cls == SLM_BPE_SPACE && j < n && slm_bpe_byte_class(s[j]) != SLM_BPE_SPACE && j - i > 1 && s[j - 1] == ' ') j--;
    return j - i;
}

// ---- the tokenizer's tables ----
struct slm_bpe {
    int n_merges;
    uint32_t *merges;       // (n_merges, 2): token 256+i = merges[2i] ++ merges[2i+1]
    unsigned char **bytes;  // (vocab): each token's bytes
    size_t *len;            // (vocab)
    slm_u64map merge_id;    // (a, b) → the token made by merging them
};

// Builds the byte table and the merge lookup; takes ownership of merges.
static slm_bpe *build(uint32_t *merges, int n_merges) {
    slm_bpe *t = slm_xcalloc(1, sizeof *t);
    size_t V = 256 + (size_t)n_merges;
    t->n_merges = n_merges;
    t->merges = merges;
    t->bytes = slm_xcalloc(V, sizeof(unsigned char *));
    t->len = slm_xcalloc(V, sizeof(size_t));
    for (int i = 0; i < 256; i++) {
        t->bytes[i] = slm_xmalloc(1);
        t->bytes[i][0] = (unsigned char)i;
        t->len[i] = 1;
    }
    slm_u64map_init(&t->merge_id, 16);
    for (int i = 0; i < n_merges; i++) {
        uint32_t a = merges[2 * i], b = merges[2 * i + 1], id = 256 + (uint32_t)i;
        t->len[id] = t->len[a] + t->len[b];
        t->bytes[id] = slm_xmalloc(t->len[id]);
        memcpy(t->bytes[id], t->bytes[a], t->len[a]);
        memcpy(t->bytes[id] + t->len[a], t->bytes[b], t->len[b]);
        int isnew;
        uint32_t *slot = slm_u64map_get(&t->merge_id, pair_key(a, b), &isnew);
        if (isnew) *slot = id;  // a repeated merge (only in a hand-made file) can never apply
    }
    return t;
}

void slm_bpe_free(slm_bpe *t) {
    if (!t) return;
    for (int i = 0; i < 256 + t->n_merges; i++) free(t->bytes[i]);
    free(t->bytes);
    free(t->len);
    free(t->merges);
    slm_u64map_free(&t->merge_id);
    free(t);
}

int slm_bpe_vocab_size(const slm_bpe *t) { return 256 + t->n_merges; }

void slm_bpe_merge(const slm_bpe *t, int i, uint32_t *a, uint32_t *b) {
    SLM_ASSERT(i >= 0 && i < t->n_merges, "merge %d of a tokenizer of %d merges", i, t->n_merges);
    *a = t->merges[2 * i];
    *b = t->merges[2 * i + 1];
}

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
    int64_t freq;  // occurrences of the chunk in the text
} word;

typedef struct {
    int64_t count;  // occurrences over the text
    uint32_t a, b;
    int dirty;   // its count changed during the current merge
    int *where;  // words that held the pair when listed: all that hold it, and maybe more
    int n_where, cap_where;
} pair_stat;

typedef struct {
    int64_t count;
    uint32_t pair;
} heap_entry;

typedef struct {
    slm_u64map index;  // (a, b) → pair id
    pair_stat *p;
    int n, cap;
    int *dirty, n_dirty;  // pairs whose count changed during the current merge
    heap_entry *heap;     // max-heap by count, then by the smaller pair of ids
    size_t n_heap, cap_heap;
} pair_table;

static int heap_above(const pair_table *pt, heap_entry x, heap_entry y) {
    if (x.count != y.count) return x.count > y.count;
    const pair_stat *px = &pt->p[x.pair], *py = &pt->p[y.pair];
    return pair_key(px->a, px->b) < pair_key(py->a, py->b);
}

static void heap_push(pair_table *pt, uint32_t pair) {
    if (pt->n_heap == pt->cap_heap) {
        pt->cap_heap = pt->cap_heap ? 2 * pt->cap_heap : 4096;
        pt->heap = slm_xrealloc(pt->heap, pt->cap_heap * sizeof *pt->heap);
    }
    heap_entry e = {pt->p[pair].count, pair};
    size_t i = pt->n_heap++;
    for (; i > 0 && heap_above(pt, e, pt->heap[(i - 1) / 2]); i = (i - 1) / 2) pt->heap[i] = pt->heap[(i - 1) / 2];
    pt->heap[i] = e;
}

static heap_entry heap_pop(pair_table *pt) {
    heap_entry top = pt->heap[0], last = pt->heap[--pt->n_heap];
    size_t i = 0, n = pt->n_heap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && heap_above(pt, pt->heap[c + 1], pt->heap[c])) c++;
        if (!heap_above(pt, pt->heap[c], last)) break;
        pt->heap[i] = pt->heap[c];
        i = c;
    }
    if (n) pt->heap[i] = last;
    return top;
}

// The pair to merge next (most frequent, occurring at least twice), or -1.
static int best_pair(pair_table *pt) {
    while (pt->n_heap) {
        heap_entry e = heap_pop(pt);
        if (e.count == pt->p[e.pair].count && e.count >= 2) return (int)e.pair;
    }
    return -1;
}

static uint32_t pair_id(pair_table *pt, uint32_t a, uint32_t b) {
    int isnew;
    uint32_t *v = slm_u64map_get(&pt->index, pair_key(a, b), &isnew);
    if (isnew) {
        if (pt->n == pt->cap) {
            pt->cap = pt->cap ? 2 * pt->cap : 4096;
            pt->p = slm_xrealloc(pt->p, (size_t)pt->cap * sizeof *pt->p);
            pt->dirty = slm_xrealloc(pt->dirty, (size_t)pt->cap * sizeof *pt->dirty);
        }
        pt->p[pt->n] = (pair_stat){.a = a, .b = b};
        *v = (uint32_t)pt->n++;
    }
    return *v;
}

enum { ALL_PAIRS = UINT32_MAX };

// Adds (sign +1) or removes (-1) the pairs of word wi to the counts. Adding
// also lists wi under its pairs: all of them (track = ALL_PAIRS), or only those
// holding the token `track` just made, the others having listed it already.
static void count_word(pair_table *pt, const word *w, int wi, int sign, uint32_t track) {
    for (int i = 0; i + 1 < w->n; i++) {
        uint32_t id = pair_id(pt, w->sym[i], w->sym[i + 1]);
        pair_stat *ps = &pt->p[id];
        ps->count += sign * w->freq;
        if (!ps->dirty) {
            ps->dirty = 1;
            pt->dirty[pt->n_dirty++] = (int)id;
        }
        int listed = ps->n_where > 0 && ps->where[ps->n_where - 1] == wi;
        if (sign > 0 && !listed && (track == ALL_PAIRS || ps->a == track || ps->b == track)) {
            if (ps->n_where == ps->cap_where) {
                ps->cap_where = ps->cap_where ? 2 * ps->cap_where : 4;
                ps->where = slm_xrealloc(ps->where, (size_t)ps->cap_where * sizeof(int));
            }
            ps->where[ps->n_where++] = wi;
        }
    }
}

// Pushes every pair whose count changed since the last call.
static void push_dirty(pair_table *pt) {
    for (int k = 0; k < pt->n_dirty; k++) {
        pair_stat *ps = &pt->p[pt->dirty[k]];
        ps->dirty = 0;
        if (ps->count >= 2) heap_push(pt, (uint32_t)pt->dirty[k]);
    }
    pt->n_dirty = 0;
}

// Replaces each (a, b) in sym[0..n) by id, left to right; returns the new length.
static size_t merge_pair(uint32_t *sym, size_t n, uint32_t a, uint32_t b, uint32_t id) {
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n && sym[i] == a && sym[i + 1] == b) {
            sym[m++] = id;
            i++;
        } else {
            sym[m++] = sym[i];
        }
    }
    return m;
}

static int holds_pair(const word *w, uint32_t a, uint32_t b) {
    for (int i = 0; i + 1 < w->n; i++)
        if (w->sym[i] == a && w->sym[i + 1] == b) return 1;
    return 0;
}

// The unique chunks of text with their frequencies; returns their number.
static int unique_chunks(const unsigned char *text, size_t n, word **out) {
    slm_u64map index;  // chunk hash → word; a collision moves on to hash+1, hash+2, ...
    slm_u64map_init(&index, 4096);
    word *words = NULL;
    int n_words = 0, cap_words = 0;
    for (size_t i = 0; i < n;) {
        size_t len = chunk_len(text, n, i);
        uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a
        for (size_t j = 0; j < len; j++) h = (h ^ text[i + j]) * 0x100000001b3ull;
        for (;; h++) {
            int isnew;
            uint32_t *v = slm_u64map_get(&index, h, &isnew);
            if (isnew) {
                if (n_words == cap_words) {
                    cap_words = cap_words ? 2 * cap_words : 4096;
                    words = slm_xrealloc(words, (size_t)cap_words * sizeof *words);
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
        }
        i += len;
    }
    slm_u64map_free(&index);
    *out = words;
    return n_words;
}

int slm_bpe_train(slm_bpe **out, const unsigned char *text, size_t n, int vocab_size, slm_err *err) {
    if (vocab_size < 256 || vocab_size > (1 << 20))
        return slm_fail(err, "tokenizer vocabulary must be between 256 and 1048576 (got %d)", vocab_size);
    word *words;
    int n_words = unique_chunks(text, n, &words);
    pair_table pt = {0};
    slm_u64map_init(&pt.index, 1 << 16);
    for (int wi = 0; wi < n_words; wi++) count_word(&pt, &words[wi], wi, +1, ALL_PAIRS);
    push_dirty(&pt);

    const int n_target = vocab_size - 256;
    int n_merges = 0;
    uint32_t *merges = slm_xmalloc(2 * (size_t)(n_target > 0 ? n_target : 1) * sizeof(uint32_t));
    for (int best; n_merges < n_target && (best = best_pair(&pt)) >= 0;) {
        uint32_t a = pt.p[best].a, b = pt.p[best].b, id = 256 + (uint32_t)n_merges;
        merges[2 * n_merges] = a;
        merges[2 * n_merges + 1] = b;
        n_merges++;
        // take the word list: count_word appends to lists and may move pt.p
        int *where = pt.p[best].where, n_where = pt.p[best].n_where;
        pt.p[best].where = NULL;
        pt.p[best].n_where = pt.p[best].cap_where = 0;
        for (int k = 0; k < n_where; k++) {
            word *w = &words[where[k]];
            if (!holds_pair(w, a, b)) continue;  // stale entry, or a word already rewritten
            count_word(&pt, w, where[k], -1, ALL_PAIRS);
            w->n = (int)merge_pair(w->sym, (size_t)w->n, a, b, id);
            count_word(&pt, w, where[k], +1, id);
        }
        free(where);
        push_dirty(&pt);
    }
    for (int i = 0; i < pt.n; i++) free(pt.p[i].where);
    free(pt.p);
    free(pt.dirty);
    free(pt.heap);
    slm_u64map_free(&pt.index);
    for (int wi = 0; wi < n_words; wi++) free(words[wi].sym);
    free(words);
    *out = build(merges, n_merges);
    return 0;
}

// ---- encoding ----
// Merges inside one chunk by rank: the applicable merge made earliest in
// training (lowest new id) first, as training made them.
static size_t encode_chunk(const slm_bpe *t, uint32_t *sym, size_t n) {
    for (;;) {
        uint32_t best_id = UINT32_MAX;
        size_t at = 0;
        for (size_t i = 0; i + 1 < n; i++) {
            const uint32_t *id = slm_u64map_find(&t->merge_id, pair_key(sym[i], sym[i + 1]));
            if (id && *id < best_id) best_id = *id, at = i;
        }
        if (best_id == UINT32_MAX) return n;
        n = merge_pair(sym, n, sym[at], sym[at + 1], best_id);
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
    size_t total = 0, len;
    for (size_t i = 0; i < n; i++) {
        slm_bpe_token_bytes(t, tokens[i], &len);
        total += len;
    }
    unsigned char *out = slm_xmalloc(total ? total : 1), *p = out;
    for (size_t i = 0; i < n; i++) {
        const unsigned char *b = slm_bpe_token_bytes(t, tokens[i], &len);
        if (len) memcpy(p, b, len);
        p += len;
    }
    *n_bytes = total;
    return out;
}

// ---- the file ----
static const char MAGIC[8] = {'S', 'L', 'M', 'B', 'P', 'E', '0', '1'};
enum { VERSION = 1, HEADER_BYTES = 16, MAX_FILE_BYTES = HEADER_BYTES + 8 * ((1 << 20) - 256) };

int slm_bpe_save(const slm_bpe *t, const char *path, slm_err *err) {
    size_t bytes = HEADER_BYTES + 8 * (size_t)t->n_merges;
    unsigned char *buf = slm_xmalloc(bytes);
    memcpy(buf, MAGIC, 8);
    slm_wr_le32(buf + 8, VERSION);
    slm_wr_le32(buf + 12, (uint32_t)t->n_merges);
    for (size_t i = 0; i < 2 * (size_t)t->n_merges; i++) slm_wr_le32(buf + HEADER_BYTES + 4 * i, t->merges[i]);
    slm_atomic_file af;
    int rc = slm_atomic_open(&af, path, "tokenizer", err);
    if (!rc) rc = slm_atomic_commit(&af, fwrite(buf, 1, bytes, af.f) != bytes, err);
    free(buf);
    return rc;
}

// Checks a whole tokenizer file held in buf; 0 or -1 with err filled.
static int check_file(const unsigned char *buf, size_t bytes, const char *path, slm_err *err) {
    if (bytes < 8 || memcmp(buf, MAGIC, 8))
        return slm_fail(err, "%s: not a slm tokenizer (magic is not \"SLMBPE01\"; make one with slm tokenize)", path);
    if (bytes < HEADER_BYTES)
        return slm_fail(err, "%s: truncated tokenizer: %zu bytes, shorter than the %d-byte header", path, bytes,
                        HEADER_BYTES);
    uint32_t version = slm_rd_le32(buf + 8), n_merges = slm_rd_le32(buf + 12);
    if (version != VERSION)
        return slm_fail(err, "%s: tokenizer version %u is not supported (expected %d)", path, version, VERSION);
    if (n_merges > (1u << 20) - 256)
        return slm_fail(err, "%s: corrupt tokenizer: %u merges, more than the largest vocabulary (1048576) allows",
                        path, n_merges);
    size_t want = HEADER_BYTES + 8 * (size_t)n_merges;
    if (bytes != want)
        return slm_fail(err, "%s: %s tokenizer: the header says %u merges (%zu bytes), the file has %zu bytes", path,
                        bytes < want ? "truncated" : "corrupt", n_merges, want, bytes);
    // token lengths: no merge may make a token longer than a chunk (training never does),
    // so a crafted file cannot ask for 2^40 bytes by doubling a token 40 times
    uint8_t *len = slm_xmalloc(256 + (size_t)n_merges);
    memset(len, 1, 256);
    for (uint32_t i = 0; i < n_merges; i++) {
        uint32_t id[2];
        for (int side = 0; side < 2; side++) {
            id[side] = slm_rd_le32(buf + HEADER_BYTES + 8 * (size_t)i + 4 * (size_t)side);
            if (id[side] >= 256 + i) {
                free(len);
                return slm_fail(err, "%s: corrupt tokenizer: merge %u uses token %u, expected one below %u", path, i,
                                id[side], 256 + i);
            }
        }
        unsigned total = (unsigned)len[id[0]] + len[id[1]];
        if (total > MAX_CHUNK_BYTES) {
            free(len);
            return slm_fail(err, "%s: corrupt tokenizer: merge %u makes a token of %u bytes (at most %d)", path, i,
                            total, MAX_CHUNK_BYTES);
        }
        len[256 + i] = (uint8_t)total;
    }
    free(len);
    return 0;
}

int slm_bpe_load(slm_bpe **out, const char *path, slm_err *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return slm_fail(err, "cannot open tokenizer %s: %s", path, strerror(errno));
    size_t cap = 1 << 16, bytes = 0, got;
    unsigned char *buf = slm_xmalloc(cap);
    while ((got = fread(buf + bytes, 1, cap - bytes, f)) > 0) {
        bytes += got;
        if (bytes == cap) buf = slm_xrealloc(buf, cap *= 2);
        if (bytes > MAX_FILE_BYTES) break;  // larger than any tokenizer: check_file rejects it
    }
    int read_failed = ferror(f);
    fclose(f);
    if (read_failed) {
        free(buf);
        return slm_fail(err, "cannot read tokenizer %s", path);
    }
    int rc = slm_bpe_load_memory(out, buf, bytes, path, err);
    free(buf);
    return rc;
}

int slm_bpe_load_memory(slm_bpe **out, const unsigned char *buf, size_t bytes, const char *name, slm_err *err) {
    if (check_file(buf, bytes, name, err)) return -1;
    uint32_t n_merges = slm_rd_le32(buf + 12);
    uint32_t *merges = slm_xmalloc(2 * ((size_t)n_merges + 1) * sizeof(uint32_t));
    for (size_t i = 0; i < 2 * (size_t)n_merges; i++) merges[i] = slm_rd_le32(buf + HEADER_BYTES + 4 * i);
    *out = build(merges, (int)n_merges);
    return 0;
}
