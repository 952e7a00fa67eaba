// hf_added.c — added tokens (hf_added.h): read with tokenizers' ids, and
// found in text by a scan that, at each byte, tries the tokens that start
// with it, longest first.
#include "data/hf_added.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/hf_json.h"
#include "data/hf_normalizer.h"
#include "data/utf8.h"

typedef struct {
    char *content;
    size_t len;
    uint32_t id;
    int lstrip, rstrip, normalized, special;
} added;

typedef struct {  // the tokens of one pass, by first byte, longest first
    int *order;   // indices into tokens
    int from[257];
} pass;

struct slm_hf_added {
    added *tokens;
    int n;
    uint32_t id_limit;
    pass passes[2];  // normalized false, true
};

uint32_t slm_hf_added_id_limit(const slm_hf_added *a) { return a->id_limit; }

const char *slm_hf_added_content(const slm_hf_added *a, uint32_t id) {
    for (int i = 0; i < a->n; i++)
        if (a->tokens[i].id == id) return a->tokens[i].content;
    return NULL;
}

void slm_hf_added_free(slm_hf_added *a) {
    if (!a) return;
    for (int i = 0; i < a->n; i++) free(a->tokens[i].content);
    free(a->tokens);
    free(a->passes[0].order);
    free(a->passes[1].order);
    free(a);
}

// ---- reading the JSON ----
static int find_content(const slm_hf_added *a, const char *content) {
    for (int i = 0; i < a->n; i++)
        if (!strcmp(a->tokens[i].content, content)) return i;
    return -1;
}

// Entry e of the list into t (content, flags and the id the file gives); 0 or -1.
static int read_entry(const cJSON *e, added *t, unsigned *file_id, const slm_hfj *at) {
    const char *content;
    int single_word;
    if (!cJSON_IsObject(e)) return slm_fail(at->err, "%s: %s must be an object", at->path, at->where);
    char what[160];
    snprintf(what, sizeof what, "%s.id", at->where);
    if (slm_hfj_index(at, cJSON_GetObjectItemCaseSensitive(e, "id"), what, 1 << 24, file_id) ||
        slm_hfj_string(at, e, "content", 1, &content) || slm_hfj_bool(at, e, "single_word", -1, &single_word) ||
        slm_hfj_bool(at, e, "lstrip", -1, &t->lstrip) || slm_hfj_bool(at, e, "rstrip", -1, &t->rstrip) ||
        slm_hfj_bool(at, e, "normalized", -1, &t->normalized) || slm_hfj_bool(at, e, "special", -1, &t->special))
        return -1;
    if (single_word)
        return slm_fail(at->err, "%s: %s (\"%.40s\") has single_word true: not supported", at->path, at->where,
                        content);
    t->content = (char *)content;
    t->len = strlen(content);
    return 0;
}

// The id tokenizers gives t (AddedVocabulary::add_tokens); *next_id: the next new one.
static int assign_id(slm_hf_added *a, added *t, unsigned file_id, uint32_t *next_id, const slm_hf_bpe *model,
                     const slm_hfj *at) {
    int same = find_content(a, t->content);
    long vocab_id = slm_hf_bpe_id_of(model, t->content, t->len);
    t->id = same >= 0 ? a->tokens[same].id : vocab_id >= 0 ? (uint32_t)vocab_id : (*next_id)++;
    if (t->id != file_id)
        return slm_fail(
            at->err, "%s: %s (\"%.40s\") has id %u, but tokenizers gives it %u (%s)", at->path, at->where, t->content,
            file_id, t->id,
            vocab_id >= 0 ? "its id in the vocabulary" : "ids of new tokens run on from the vocabulary's size");
    const char *other = slm_hf_bpe_token(model, t->id);
    if (vocab_id < 0 && other)
        return slm_fail(at->err, "%s: %s (\"%.40s\") gets id %u, which the vocabulary gives to \"%.40s\"", at->path,
                        at->where, t->content, t->id, other);
    t->content = strdup(t->content);
    if (same >= 0) {  // the same content again: its flags replace the earlier ones
        free(a->tokens[same].content);
        a->tokens[same] = *t;
    } else {
        a->tokens[a->n++] = *t;
    }
    if (t->id >= a->id_limit) a->id_limit = t->id + 1;
    return 0;
}

// The tokens of each pass by first byte, longest first within one.
static void index_passes(slm_hf_added *a) {
    for (int p = 0; p < 2; p++) {
        pass *ps = &a->passes[p];
        int count[257] = {0};
        for (int i = 0; i < a->n; i++)
            if (a->tokens[i].normalized == p) count[(unsigned char)a->tokens[i].content[0] + 1]++;
        for (int b = 0; b < 256; b++) count[b + 1] += count[b];
        memcpy(ps->from, count, sizeof ps->from);
        ps->order = slm_xmalloc((size_t)(a->n ? a->n : 1) * sizeof *ps->order);
        for (int i = 0; i < a->n; i++)
            if (a->tokens[i].normalized == p) ps->order[count[(unsigned char)a->tokens[i].content[0]]++] = i;
        for (int b = 0; b < 256; b++)  // insertion sort by length, within each first byte
            for (int k = ps->from[b] + 1; k < ps->from[b + 1]; k++)
                for (int j = k; j > ps->from[b] && a->tokens[ps->order[j]].len > a->tokens[ps->order[j - 1]].len; j--) {
                    int x = ps->order[j];
                    ps->order[j] = ps->order[j - 1];
                    ps->order[j - 1] = x;
                }
    }
}

// The contents of the normalized tokens in NFC (after every id is given: ids follow the contents as written).
static void normalize_contents(slm_hf_added *a) {
    for (int i = 0; i < a->n; i++) {
        added *t = &a->tokens[i];
        if (!t->normalized) continue;
        size_t m;
        unsigned char *normal = slm_hf_nfc((const unsigned char *)t->content, t->len, &m);
        free(t->content);
        t->content = slm_xrealloc(normal, m + 1);
        t->content[m] = 0;
        t->len = m;
    }
}

slm_hf_added *slm_hf_added_parse(const cJSON *list, const slm_hf_bpe *model, int nfc, const char *path, slm_err *err) {
    slm_hf_added *a = slm_xcalloc(1, sizeof *a);
    if (list && !cJSON_IsArray(list)) {
        slm_fail(err, "%s: added_tokens must be a list", path);
        slm_hf_added_free(a);
        return NULL;
    }
    a->tokens = slm_xcalloc((size_t)(list ? cJSON_GetArraySize(list) : 0) + 1, sizeof *a->tokens);
    uint32_t next_id = slm_hf_bpe_count(model);
    int i = 0;
    for (const cJSON *e = list ? list->child : NULL; e; e = e->next, i++) {
        char where[64];
        snprintf(where, sizeof where, "added_tokens[%d]", i);
        const slm_hfj at = {path, where, err};
        added t = {0};
        unsigned file_id;
        if (read_entry(e, &t, &file_id, &at) || (t.len && assign_id(a, &t, file_id, &next_id, model, &at))) {
            slm_hf_added_free(a);
            return NULL;
        }
    }
    if (nfc) normalize_contents(a);
    index_passes(a);
    return a;
}

// ---- finding them ----
// The leftmost match in s[from..n), the longest there: its start (n: none), *k its token.
static size_t next_match(const slm_hf_added *a, const pass *p, const unsigned char *s, size_t n, size_t from, int *k) {
    for (size_t i = from; i < n; i++)
        for (int j = p->from[s[i]]; j < p->from[s[i] + 1]; j++) {
            const added *t = &a->tokens[p->order[j]];
            if (t->len <= n - i && !memcmp(s + i, t->content, t->len)) return (*k = p->order[j], i);
        }
    return n;
}

// Where the White_Space that ends s[0..end) begins (lstrip: \s*$).
static size_t white_space_before(const unsigned char *s, size_t end) {
    while (end > 0) {
        size_t i = end - 1, j;
        while (i > 0 && (s[i] & 0xC0) == 0x80) i--;
        j = i;
        if (!slm_utf8_is_white_space(slm_utf8_next(s, &j))) break;
        end = i;
    }
    return end;
}

// Where the White_Space that starts s[from..n) ends (rstrip: ^\s*).
static size_t white_space_after(const unsigned char *s, size_t n, size_t from) {
    for (size_t j = from; from < n && slm_utf8_is_white_space(slm_utf8_next(s, &j)); j = from) from = j;
    return from;
}

int slm_hf_added_split(const slm_hf_added *a, int normalized, const unsigned char *s, size_t n,
                       const slm_hf_added_out *out) {
    const pass *p = &a->passes[normalized != 0];
    size_t done = 0, from = 0, at;  // done: the end of the last token's part (start_offset)
    int k;
    while (p->from[256] && (at = next_match(a, p, s, n, from, &k)) < n) {  // find_matches
        const added *t = &a->tokens[k];
        size_t start = at, stop = at + t->len;
        from = stop;
        if (t->lstrip) {
            size_t ws = white_space_before(s, start);
            start = ws > done ? ws : done;
        }
        if (t->rstrip) stop = white_space_after(s, n, stop);
        if (done < start && out->text(out->ctx, s + done, start - done)) return -1;
        out->token(out->ctx, t->id);
        done = stop;
    }
    return done < n ? out->text(out->ctx, s + done, n - done) : 0;
}
