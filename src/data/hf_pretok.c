// hf_pretok.c — the pre-tokenizer steps of hf_pretok.h: read from the JSON,
// then run depth-first, each piece through every later step before the next
// piece, so nothing but one piece per step is held at a time. A step's text
// is in one of three forms: the text itself (before ByteLevel), its bytes
// (after ByteLevel; the alphabet's characters made only when a later Split
// must see them) or those characters.
#include "data/hf_pretok.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/byte_level.h"
#include "data/hf_json.h"
#include "data/hf_regex.h"

// tokenizers' ByteLevel regex (pre_tokenizers/byte_level.rs), GPT-2's
static const char GPT2_REGEX[] = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

enum { STEP_SPLIT, STEP_BYTE_LEVEL };
enum { B_REMOVED, B_ISOLATED, B_MERGED_PREV, B_MERGED_NEXT, B_CONTIGUOUS };
static const char *const BEHAVIORS[] = {"Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"};
enum { FORM_TEXT, FORM_BYTES, FORM_CHARS };

typedef struct {
    int kind;
    slm_hf_regex *re;  // NULL: a ByteLevel without use_regex
    int behavior, invert, add_prefix_space;
} step;

typedef struct {
    size_t start, end;
    int flag;  // a match, then (after the behavior) a part to remove
} segment;

typedef struct {  // one step's scratch, kept from piece to piece
    slm_span *matches;
    segment *segs;
    unsigned char *text;
    size_t cap_matches, cap_segs, cap_text;
} level;

struct slm_hf_pretok {
    step *steps;
    level *levels;  // one per step, and one for the end
    int n_steps, n_byte_level;
};

// ---- reading the JSON ----
static int add_node(slm_hf_pretok *p, const cJSON *node, const char *where, const char *path, slm_err *err);

static step *new_step(slm_hf_pretok *p, int kind) {
    p->steps = slm_xrealloc(p->steps, (size_t)(p->n_steps + 1) * sizeof *p->steps);
    step *s = &p->steps[p->n_steps++];
    *s = (step){.kind = kind, .behavior = B_ISOLATED};
    return s;
}

static int add_sequence(slm_hf_pretok *p, const cJSON *node, const char *where, const char *path, slm_err *err) {
    const cJSON *list = slm_hfj_get(node, "pretokenizers");
    if (!cJSON_IsArray(list)) return slm_fail(err, "%s: %s.pretokenizers must be a list", path, where);
    int i = 0;
    for (const cJSON *item = list->child; item; item = item->next, i++) {
        char inner[256];
        snprintf(inner, sizeof inner, "%s.pretokenizers[%d]", where, i);
        if (add_node(p, item, inner, path, err)) return -1;
    }
    return 0;
}

static int add_split(slm_hf_pretok *p, const cJSON *node, const slm_hfj *at) {
    const cJSON *pattern = slm_hfj_get(node, "pattern");
    const cJSON *str = pattern ? slm_hfj_get(pattern, "String") : NULL,
                *rx = pattern ? slm_hfj_get(pattern, "Regex") : NULL;
    if (!cJSON_IsString(str) && !cJSON_IsString(rx))
        return slm_fail(at->err, "%s: %s.pattern must be {\"Regex\": \"...\"} or {\"String\": \"...\"}", at->path,
                        at->where);
    const char *behavior;
    int invert;
    if (slm_hfj_string(at, node, "behavior", 1, &behavior) || slm_hfj_bool(at, node, "invert", -1, &invert)) return -1;
    int b = 0;
    while (b < 5 && strcmp(behavior, BEHAVIORS[b])) b++;
    if (b == 5)
        return slm_fail(at->err,
                        "%s: %s.behavior \"%.40s\" is not one of Removed, Isolated, MergedWithPrevious, "
                        "MergedWithNext, Contiguous",
                        at->path, at->where, behavior);
    char what[300];
    snprintf(what, sizeof what, "%s: %s.pattern", at->path, at->where);
    slm_hf_regex *re = slm_hf_regex_new(str ? str->valuestring : rx->valuestring, str != NULL, what, at->err);
    if (!re) return -1;
    step *s = new_step(p, STEP_SPLIT);
    s->re = re, s->behavior = b, s->invert = invert;
    return 0;
}

// Digits: tokenizers splits on char::is_numeric (\p{N}), each digit alone or runs of them
static int add_digits(slm_hf_pretok *p, const cJSON *node, const slm_hfj *at) {
    int individual;
    if (slm_hfj_bool(at, node, "individual_digits", -1, &individual)) return -1;
    char what[300];
    snprintf(what, sizeof what, "%s: %s", at->path, at->where);
    step *s = new_step(p, STEP_SPLIT);
    s->re = slm_hf_regex_new("\\p{N}", 0, what, at->err);
    SLM_ASSERT(s->re, "the Digits regex does not compile: %s", at->err->msg);
    s->behavior = individual ? B_ISOLATED : B_CONTIGUOUS;
    return 0;
}

static int add_byte_level(slm_hf_pretok *p, const cJSON *node, const slm_hfj *at) {
    int prefix, trim, use_regex;
    if (slm_hfj_bool(at, node, "add_prefix_space", -1, &prefix) || slm_hfj_bool(at, node, "trim_offsets", -1, &trim) ||
        slm_hfj_bool(at, node, "use_regex", 1, &use_regex))
        return -1;
    step *s = new_step(p, STEP_BYTE_LEVEL);
    s->add_prefix_space = prefix;
    if (use_regex) {
        s->re = slm_hf_regex_new(GPT2_REGEX, 0, at->where, at->err);
        SLM_ASSERT(s->re, "GPT-2's regex does not compile: %s", at->err->msg);
    }
    p->n_byte_level++;
    return 0;
}

static int add_node(slm_hf_pretok *p, const cJSON *node, const char *where, const char *path, slm_err *err) {
    const slm_hfj at = {path, where, err};
    const char *type;
    if (slm_hfj_type(&at, node, &type)) return -1;
    if (!strcmp(type, "Sequence")) return add_sequence(p, node, where, path, err);
    if (!strcmp(type, "Split")) return add_split(p, node, &at);
    if (!strcmp(type, "Digits")) return add_digits(p, node, &at);
    if (!strcmp(type, "ByteLevel")) return add_byte_level(p, node, &at);
    if (!strcmp(type, "Metaspace"))
        return slm_fail(err,
                        "%s: %s: the pre-tokenizer Metaspace (SentencePiece's) is not supported, only byte-level BPE",
                        path, where);
    return slm_fail(err,
                    "%s: %s: the pre-tokenizer %.40s is not supported (only ByteLevel, Split, Digits and "
                    "Sequence)",
                    path, where, type);
}

slm_hf_pretok *slm_hf_pretok_parse(const cJSON *node, const char *path, slm_err *err) {
    slm_hf_pretok *p = slm_xcalloc(1, sizeof *p);
    if (!node) {
        slm_fail(err, "%s: pre_tokenizer is null: a byte-level BPE needs a ByteLevel pre-tokenizer", path);
    } else if (!add_node(p, node, "pre_tokenizer", path, err)) {
        if (p->n_byte_level == 1) {
            p->levels = slm_xcalloc((size_t)p->n_steps + 1, sizeof *p->levels);
            return p;
        }
        slm_fail(err, "%s: pre_tokenizer has %d ByteLevel steps: a byte-level BPE needs exactly one", path,
                 p->n_byte_level);
    }
    slm_hf_pretok_free(p);
    return NULL;
}

void slm_hf_pretok_free(slm_hf_pretok *p) {
    if (!p) return;
    for (int i = 0; i < p->n_steps; i++) slm_hf_regex_free(p->steps[i].re);
    for (int i = 0; p->levels && i <= p->n_steps; i++) {
        free(p->levels[i].matches);
        free(p->levels[i].segs);
        free(p->levels[i].text);
    }
    free(p->levels);
    free(p->steps);
    free(p);
}

// ---- running ----
static unsigned char *text_room(level *lv, size_t bytes) {
    if (bytes > lv->cap_text) {
        lv->cap_text = bytes > 2 * lv->cap_text ? bytes : 2 * lv->cap_text;
        lv->text = slm_xrealloc(lv->text, lv->cap_text);
    }
    return lv->text;
}

// The matches and the text between them, in order, covering s[0..n)
// (tokenizers' Pattern::find_matches); returns their number.
static size_t segments_of(level *lv, size_t n_matches, size_t n) {
    if (2 * n_matches + 1 > lv->cap_segs) {
        lv->cap_segs = 2 * n_matches + 1;
        lv->segs = slm_xrealloc(lv->segs, lv->cap_segs * sizeof *lv->segs);
    }
    size_t k = 0, prev = 0;
    for (size_t i = 0; i < n_matches; i++) {
        const slm_span m = lv->matches[i];
        if (prev != m.start) lv->segs[k++] = (segment){prev, m.start, 0};
        lv->segs[k++] = (segment){m.start, m.end, 1};
        prev = m.end;
    }
    if (prev != n) lv->segs[k++] = (segment){prev, n, 0};
    return k;
}

// Folds the k segments in place by the behavior (normalizer.rs, NormalizedString::split);
// afterwards flag says "remove". Returns the number of parts.
static size_t apply_behavior(segment *sg, size_t k, int behavior) {
    if (behavior == B_ISOLATED || behavior == B_REMOVED) {
        for (size_t i = 0; i < k; i++) sg[i].flag = behavior == B_REMOVED && sg[i].flag;
        return k;
    }
    size_t w = 0;
    int prev = 0;
    if (behavior == B_MERGED_NEXT) {  // right to left, written from the end
        w = k;
        for (size_t r = k; r-- > 0;) {
            const int m = sg[r].flag;
            if (m && !prev && w < k)
                sg[w].start = sg[r].start;
            else
                sg[--w] = (segment){sg[r].start, sg[r].end, 0};
            prev = m;
        }
        memmove(sg, sg + w, (k - w) * sizeof *sg);
        return k - w;
    }
    for (size_t r = 0; r < k; r++) {
        const int m = sg[r].flag;
        const int join = behavior == B_CONTIGUOUS ? m == prev : m && !prev;
        if (join && w > 0)
            sg[w - 1].end = sg[r].end;
        else
            sg[w++] = (segment){sg[r].start, sg[r].end, 0};
        prev = m;
    }
    return w;
}

typedef struct {
    slm_hf_pretok *p;
    slm_hf_piece_fn emit;
    void *ctx;
    slm_err *err;
} run_ctx;

static int run_step(const run_ctx *rc, int k, const unsigned char *s, size_t n, int form);

// The parts of s[0..n) at level k by re and the behavior, each run through step k+1 in `form`.
static int split_by(const run_ctx *rc, int k, slm_hf_regex *re, int behavior, int invert, const unsigned char *s,
                    size_t n, int form) {
    level *lv = &rc->p->levels[k];
    long n_matches = slm_hf_regex_matches(re, s, n, &lv->matches, &lv->cap_matches, rc->err);
    if (n_matches < 0) return -1;
    size_t n_segs = segments_of(lv, (size_t)n_matches, n);
    for (size_t i = 0; i < n_segs; i++) lv->segs[i].flag ^= invert;
    n_segs = apply_behavior(lv->segs, n_segs, behavior);
    for (size_t i = 0; i < n_segs; i++) {
        const segment sg = lv->segs[i];
        if (!sg.flag && sg.end > sg.start && run_step(rc, k + 1, s + sg.start, sg.end - sg.start, form)) return -1;
    }
    return 0;
}

static int byte_level(const run_ctx *rc, int k, const step *st, const unsigned char *s, size_t n) {
    if (st->add_prefix_space && s[0] != ' ') {
        unsigned char *t = text_room(&rc->p->levels[k], n + 1);
        t[0] = ' ';
        memcpy(t + 1, s, n);
        s = t, n++;
    }
    if (!st->re) return run_step(rc, k + 1, s, n, FORM_BYTES);
    return split_by(rc, k, st->re, B_ISOLATED, 0, s, n, FORM_BYTES);
}

static int run_step(const run_ctx *rc, int k, const unsigned char *s, size_t n, int form) {
    level *lv = &rc->p->levels[k];
    if (k == rc->p->n_steps) {  // FORM_TEXT cannot reach here: there is one ByteLevel step
        if (form == FORM_CHARS) {
            long m = slm_byte_level_unmap(s, n, text_room(lv, n));
            SLM_ASSERT(m >= 0, "a piece after ByteLevel holds a character outside its alphabet");
            s = lv->text, n = (size_t)m;
        }
        rc->emit(rc->ctx, s, n);
        return 0;
    }
    const step *st = &rc->p->steps[k];
    if (st->kind == STEP_BYTE_LEVEL) return byte_level(rc, k, st, s, n);
    if (form == FORM_BYTES) {
        n = slm_byte_level_map(s, n, text_room(lv, 2 * n));
        s = lv->text, form = FORM_CHARS;
    }
    return split_by(rc, k, st->re, st->behavior, st->invert, s, n, form);
}

int slm_hf_pretok_run(slm_hf_pretok *p, const unsigned char *s, size_t n, slm_hf_piece_fn emit, void *ctx,
                      slm_err *err) {
    if (!n) return 0;
    const run_ctx rc = {p, emit, ctx, err};
    return run_step(&rc, 0, s, n, FORM_TEXT);
}
