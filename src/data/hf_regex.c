// hf_regex.c — Oniguruma patterns of tokenizer.json through PCRE2 (hf_regex.h):
// the translation of the few escapes the two engines define differently,
// compilation (JIT where PCRE2 has it) and the match iterator.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "data/hf_regex.h"

#include <ctype.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/utf8.h"

struct slm_hf_regex {
    pcre2_code *code;
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    pcre2_jit_stack *jit_stack;
};

// Oniguruma's classes in Unicode (its doc/RE), as the inside of a [...] class.
static const char ONIG_SPACE[] = "\\t-\\r\\x{85}\\p{Z}";
static const char ONIG_WORD[] = "\\p{L}\\p{M}\\p{N}\\p{Pc}";

typedef struct {
    const char *pat, *where;
    char *out;
    size_t i, k;
    int in_class;
    slm_err *err;
} translation;

static void put(translation *t, const char *s) {
    size_t len = strlen(s);
    memcpy(t->out + t->k, s, len);
    t->k += len;
}

static void put_class(translation *t, const char *inside, int negated) {
    if (!t->in_class) put(t, negated ? "[^" : "[");
    put(t, inside);
    if (!t->in_class) put(t, "]");
}

// The escape at pat[i] ('\\'); 0, or -1 with err when it cannot be translated.
static int escape(translation *t) {
    const char d = t->pat[t->i + 1];
    if (d == 'h' || d == 'H' || d == 'b' || d == 'B')
        return slm_fail(t->err, "%s: \\%c means another thing in Oniguruma than in PCRE2: not supported", t->where, d);
    if ((d == 'S' || d == 'W') && t->in_class)
        return slm_fail(t->err, "%s: \\%c inside [...] is not supported", t->where, d);
    if (d == 's' || d == 'S' || d == 'w' || d == 'W') {
        put_class(t, d == 's' || d == 'S' ? ONIG_SPACE : ONIG_WORD, d == 'S' || d == 'W');
        t->i += 2;
        return 0;
    }
    const char *p = t->pat + t->i;
    if (d == 'u' && isxdigit((unsigned char)p[2]) && isxdigit((unsigned char)p[3]) && isxdigit((unsigned char)p[4]) &&
        isxdigit((unsigned char)p[5])) {
        t->k += (size_t)sprintf(t->out + t->k, "\\x{%.4s}", p + 2);
        t->i += 6;
        return 0;
    }
    t->out[t->k++] = p[0];
    if (d) t->out[t->k++] = d;
    t->i += d ? 2 : 1;
    return 0;
}

// The character at pat[i], not an escape; 0 or -1 with err.
static int plain(translation *t) {
    const char *p = t->pat + t->i;
    if (t->in_class && p[0] == '[') {
        const char *end = p[1] == ':' ? strstr(p, ":]") : NULL;
        if (!end) return slm_fail(t->err, "%s: a [...] set inside a [...] class is not supported", t->where);
        memcpy(t->out + t->k, p, (size_t)(end + 2 - p));
        t->k += (size_t)(end + 2 - p);
        t->i += (size_t)(end + 2 - p);
        return 0;
    }
    if (!t->in_class && p[0] == '(' && p[1] == '?')
        for (const char *f = p + 2; isalpha((unsigned char)*f) || *f == '-'; f++)
            if (*f == 'm' || *f == 's')
                return slm_fail(t->err, "%s: the inline flag (?%c) means another thing in Oniguruma than in PCRE2",
                                t->where, *f);
    size_t len = 1;
    if (!t->in_class && p[0] == '[') {
        t->in_class = 1;
        len += p[len] == '^';
        len += p[len] == ']';  // a ']' first is a literal one
    } else if (t->in_class && p[0] == ']') {
        t->in_class = 0;
    }
    memcpy(t->out + t->k, p, len);
    t->k += len;
    t->i += len;
    return 0;
}

// pat in PCRE2's terms: malloc'd, or NULL with err.
static char *translate(const char *pat, const char *where, slm_err *err) {
    translation t = {pat, where, slm_xmalloc(16 * strlen(pat) + 1), 0, 0, 0, err};
    while (pat[t.i])
        if (pat[t.i] == '\\' ? escape(&t) : plain(&t)) {
            free(t.out);
            return NULL;
        }
    t.out[t.k] = 0;
    return t.out;
}

static pcre2_code *compile(const char *pattern, int literal, const char *where, slm_err *err) {
    pcre2_compile_context *cctx = pcre2_compile_context_create(NULL);
    pcre2_set_newline(cctx, PCRE2_NEWLINE_LF);
    uint32_t options = PCRE2_UTF | (literal ? PCRE2_LITERAL : PCRE2_UCP | PCRE2_MULTILINE);
    int code;
    PCRE2_SIZE at;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, options, &code, &at, cctx);
    pcre2_compile_context_free(cctx);
    if (!re) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(code, msg, sizeof msg);
        slm_fail(err, "%s: the regex does not compile: %s (PCRE2, at offset %zu of \"%.80s\")", where, (char *)msg,
                 (size_t)at, pattern);
    }
    return re;
}

slm_hf_regex *slm_hf_regex_new(const char *pattern, int literal, const char *where, slm_err *err) {
    char *translated = literal ? NULL : translate(pattern, where, err);
    if (!literal && !translated) return NULL;
    pcre2_code *code = compile(literal ? pattern : translated, literal, where, err);
    free(translated);
    if (!code) return NULL;
    slm_hf_regex *re = slm_xcalloc(1, sizeof *re);
    re->code = code;
    re->md = pcre2_match_data_create_from_pattern(code, NULL);
    re->mctx = pcre2_match_context_create(NULL);
    if (pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0) {
        re->jit_stack = pcre2_jit_stack_create(32 << 10, 8 << 20, NULL);
        pcre2_jit_stack_assign(re->mctx, NULL, re->jit_stack);
    }
    if (!re->md || !re->mctx) slm_die(SLM_EXIT_FAIL, "out of host memory for a regex's match data");
    return re;
}

void slm_hf_regex_free(slm_hf_regex *re) {
    if (!re) return;
    pcre2_jit_stack_free(re->jit_stack);
    pcre2_match_context_free(re->mctx);
    pcre2_match_data_free(re->md);
    pcre2_code_free(re->code);
    free(re);
}

static void push(slm_span **spans, size_t *cap, size_t k, size_t start, size_t end) {
    if (k == *cap) {
        *cap = *cap ? 2 * *cap : 64;
        *spans = slm_xrealloc(*spans, *cap * sizeof **spans);
    }
    (*spans)[k] = (slm_span){start, end};
}

long slm_hf_regex_matches(slm_hf_regex *re, const unsigned char *s, size_t n, slm_span **spans, size_t *cap,
                          slm_err *err) {
    size_t k = 0, from = 0, last_end = 0;
    int matched = 0;
    while (from <= n) {
        // NO_UTF_CHECK: the callers' text is valid UTF-8, and a check would read all of it at every call
        int rc = pcre2_match(re->code, (PCRE2_SPTR)s, n, from, PCRE2_NO_UTF_CHECK, re->md, re->mctx);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) {
            PCRE2_UCHAR msg[160];
            pcre2_get_error_message(rc, msg, sizeof msg);
            return slm_fail(err, "a tokenizer regex gave up on the text at byte %zu: %s (PCRE2)", from, (char *)msg);
        }
        const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(re->md);
        if (ov[0] == ov[1] && matched && ov[1] == last_end) {
            if (from == n) break;
            int valid;
            from += slm_utf8_seq_len(s, n, from, &valid);
            continue;
        }
        push(spans, cap, k++, ov[0], ov[1]);
        from = last_end = ov[1];
        matched = 1;
    }
    return (long)k;
}
